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
