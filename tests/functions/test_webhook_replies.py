"""What the webhooks answer, body and status, as a sender (an action group, Event Grid) reads
it: each alert counted once with its duplicates, a batch that mixes readable and unreadable
events accepts the first and lists the others by index, a batch with nothing readable is a 400,
and a store that cannot record answers 503 so the sender retries."""

from __future__ import annotations

import copy
import json

from remediation.store.base import Unavailable
from tests.engine.signals import load
from tests.functions.test_blueprints import _post, app  # noqa: F401  (the app fixture)

ALERT = "common_alert_backup_failure_rp_limit.json"


def _body(reply) -> dict:
    return json.loads(reply.get_body())


def test_an_alert_is_answered_with_what_was_taken(app):  # noqa: F811
    functions, _ = app
    body = json.dumps(load(ALERT)).encode()
    first, again = (_post(functions["alerts"], body) for _ in range(2))
    assert (first.status_code, _body(first)) == (
        202, {"status": "accepted", "signals": 1, "duplicates": 0},
    )  # fmt: skip
    assert _body(again) == {"status": "accepted", "signals": 1, "duplicates": 1}


def _events() -> list[dict]:
    wrapped = load("eventgrid_event_wrapping_alert.json")
    return wrapped if isinstance(wrapped, list) else [wrapped]


def test_a_batch_takes_what_it_can_read_and_lists_the_rest_by_index(app):  # noqa: F811
    functions, _ = app
    good = _events()[0]
    bad = copy.deepcopy(good)
    bad["data"] = {"not": "an alert"}
    reply = _post(functions["eventgrid_webhook"], json.dumps([bad, good, bad]).encode())
    body = _body(reply)
    assert (reply.status_code, body["status"], body["signals"]) == (202, "accepted", 1)
    assert [e["index"] for e in body["rejected"]] == [0, 2]
    assert all(e["error"] for e in body["rejected"])


def test_a_batch_with_nothing_readable_is_refused_with_each_reason(app):  # noqa: F811
    functions, services = app
    bad = copy.deepcopy(_events()[0])
    bad["data"] = {"not": "an alert"}
    reply = _post(functions["eventgrid_webhook"], json.dumps([bad, bad]).encode())
    body = _body(reply)
    assert (reply.status_code, body["error"]) == (400, "no event could be read")
    assert [e["index"] for e in body["events"]] == [0, 1]
    assert services.engine.incidents.open_incidents() == []


def test_a_store_that_cannot_record_answers_503_so_the_sender_retries(app, monkeypatch):  # noqa: F811
    functions, services = app

    async def refuse(*args, **kwargs):
        raise Unavailable("the table service did not answer")

    monkeypatch.setattr(services.engine.store, "aclaim", refuse)
    reply = _post(functions["alerts"], json.dumps(load(ALERT)).encode())
    assert (reply.status_code, _body(reply)["error"]) == (
        503, "signal not recorded (Unavailable); try again",
    )  # fmt: skip


def _grid(functions, body, **kwargs):
    return _post(functions["eventgrid_webhook"], body, **kwargs)


def test_the_cloudevents_handshake_grants_the_origin_at_a_stated_rate(app):  # noqa: F811
    functions, _ = app
    origin = {"Content-Type": "", "WebHook-Request-Origin": "eventgrid.azure.net"}
    granted = _grid(functions, b"", method="OPTIONS", headers=origin)
    assert granted.status_code == 200
    assert (granted.headers["WebHook-Allowed-Origin"], granted.headers["WebHook-Allowed-Rate"]) == (
        "eventgrid.azure.net", "120",
    )  # fmt: skip
    refused = _grid(functions, b"", method="OPTIONS")
    assert (refused.status_code, _body(refused)["error"]) == (
        400, "OPTIONS without WebHook-Request-Origin",
    )  # fmt: skip


def test_a_validation_event_without_its_code_is_refused(app):  # noqa: F811
    functions, _ = app
    validation = load("eventgrid_subscription_validation.json")
    event = copy.deepcopy(validation[0] if isinstance(validation, list) else validation)
    for data in ({}, {"validationCode": ""}, "not an object"):
        event["data"] = data
        reply = _grid(functions, json.dumps([event]).encode())
        assert (reply.status_code, _body(reply)["error"]) == (
            400, "validation event without data.validationCode",
        )  # fmt: skip


def test_a_delivery_that_is_not_events_is_refused(app):  # noqa: F811
    functions, _ = app
    for body in (b"[]", b'["an alert?"]', b"[{}, 3]"):
        reply = _grid(functions, body)
        assert (reply.status_code, _body(reply)["error"]) == (
            400, "expected an event object or a non-empty array of events",
        )  # fmt: skip


def test_a_content_type_that_is_not_json_is_named_in_the_refusal(app):  # noqa: F811
    functions, _ = app
    reply = _grid(functions, b"{}", headers={"Content-Type": "Text/Plain; charset=utf-8"})
    assert (reply.status_code, _body(reply)["error"]) == (
        415,
        "content type 'text/plain' refused; send application/cloudevents+json, "
        "application/cloudevents-batch+json, application/json",
    )
    missing = _grid(functions, b"{}", headers={"Content-Type": ""})
    assert _body(missing)["error"].startswith("content type none refused; ")
    typed = {"Content-Type": "application/json; charset=utf-8; x=y"}
    with_params = _grid(functions, json.dumps(_events()).encode(), headers=typed)
    assert with_params.status_code == 202
