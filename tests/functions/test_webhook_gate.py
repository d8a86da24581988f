"""The webhooks' gate and replies as both hosts get them (remediation.webhooks' Reply, which the
Functions blueprints and the local host turn into HTTP): the shared secret, the content type,
the size limit, the Event Grid handshakes, single events and batches, and the reason a refused
event is given back to its sender."""

from __future__ import annotations

import asyncio
import copy
import json

from remediation.webhooks import MAX_ALERT_BYTES, handle_alert, handle_eventgrid
from tests.engine.signals import RecordingAccept, load
from tests.functions.test_blueprints import _post, app  # noqa: F401  (the app fixture)

JSON = {"Content-Type": "application/json"}
ALERT = "common_alert_backup_failure_rp_limit.json"


def _alert(body: bytes, headers=JSON, secret: str = "", params=None):
    accept = RecordingAccept()
    return asyncio.run(handle_alert(body, headers, accept, secret, params)), accept


def _grid(body: bytes, method: str = "POST", headers=JSON, secret: str = "", params=None):
    accept = RecordingAccept()
    return asyncio.run(handle_eventgrid(method, body, headers, accept, secret, params)), accept


def _alert_bytes() -> bytes:
    return json.dumps(load(ALERT)).encode()


def _wrapped_alert() -> dict:
    wrapped = load("eventgrid_event_wrapping_alert.json")
    return wrapped[0] if isinstance(wrapped, list) else wrapped


def test_the_shared_secret_admits_its_holder_only():
    secret = "s3cret-of-the-action-group"
    refused, accept = _alert(_alert_bytes(), secret=secret)
    assert (refused.status, refused.body) == (
        401, {"error": "missing or wrong ingestion secret (x-alert-secret or ?secret=)"},
    )  # fmt: skip
    assert accept.signals == []
    wrong, _ = _alert(_alert_bytes(), JSON | {"X-Alert-Secret": secret + "x"}, secret)
    assert wrong.status == 401
    by_header, _ = _alert(_alert_bytes(), JSON | {"X-Alert-Secret": secret}, secret)
    by_param, accept = _alert(_alert_bytes(), secret=secret, params={"secret": secret})
    assert (by_header.status, by_param.status, len(accept.signals)) == (202, 202, 1)


def test_a_secret_the_environment_holds_as_undecodable_bytes_is_compared_not_crashed_on():
    """os.environ decodes bytes that are not UTF-8 to lone surrogates; such a secret still
    compares (equal to itself, unequal to anything else) instead of raising."""
    secret = "s3cr\udcffet"
    wrong, _ = _alert(_alert_bytes(), JSON | {"x-alert-secret": "s3cret"}, secret)
    right, _ = _alert(_alert_bytes(), secret=secret, params={"secret": secret})
    assert (wrong.status, right.status) == (401, 202)


def test_a_long_content_type_is_quoted_to_its_first_60_characters():
    given = "application/" + "x" * 70
    reply, _ = _alert(b"{}", {"Content-Type": given})
    assert reply.status == 415
    assert reply.body["error"].startswith(f"content type {given[:60]!r} refused; send ")


def test_a_body_at_the_size_limit_is_read_one_byte_more_is_refused():
    body = _alert_bytes()
    at_limit = body + b" " * (MAX_ALERT_BYTES - len(body))
    taken, _ = _alert(at_limit)
    assert taken.status == 202
    over, accept = _alert(at_limit + b" ")
    assert (over.status, over.body, accept.signals) == (
        413, {"error": f"payload is {MAX_ALERT_BYTES + 1} bytes; the limit is {MAX_ALERT_BYTES}"},
        [],
    )  # fmt: skip


def test_an_empty_body_is_refused_with_what_was_expected():
    reply, _ = _alert(b"")
    assert (reply.status, reply.body) == (400, {"error": "empty body; expected JSON"})


def test_the_event_grid_handshakes_answer_200():
    validation = json.dumps(load("eventgrid_subscription_validation.json")).encode()
    validated, accept = _grid(validation)
    assert (validated.status, validated.body) == (
        200, {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
    )  # fmt: skip
    assert accept.signals == []
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    granted, _ = _grid(b"", "OPTIONS", origin)
    assert (granted.status, granted.body) == (200, None)
    assert granted.headers == {
        "WebHook-Allowed-Origin": "eventgrid.azure.net", "WebHook-Allowed-Rate": "120",
    }  # fmt: skip


def test_the_cloudevents_handshake_needs_the_secret_but_no_json_type():
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    refused, _ = _grid(b"", "OPTIONS", origin, secret="s3cret")
    assert refused.status == 401
    granted, _ = _grid(b"", "OPTIONS", origin, secret="s3cret", params={"secret": "s3cret"})
    assert granted.status == 200


def test_the_handshake_reply_has_an_empty_body_on_the_wire(app):  # noqa: F811
    functions, _ = app
    origin = {"Content-Type": "", "WebHook-Request-Origin": "eventgrid.azure.net"}
    granted = _post(functions["eventgrid_webhook"], b"", method="OPTIONS", headers=origin)
    assert (granted.status_code, granted.get_body()) == (200, b"")


def test_a_single_event_object_is_read_like_a_batch_of_one():
    """CloudEvents structured mode and Event Grid's single deliveries post one object."""
    item = load("cloudevent_wrapping_migration_item.json")  # two health errors: two signals
    for event, signals in ((item, 2), (_wrapped_alert(), 1)):
        reply, accept = _grid(json.dumps(event).encode())
        assert (reply.status, reply.body) == (
            202, {"status": "accepted", "signals": signals, "rejected": []},
        )  # fmt: skip
        assert len(accept.signals) == signals


def test_a_batch_counts_the_signals_of_every_event_and_says_why_one_was_refused():
    good = _wrapped_alert()
    bad = copy.deepcopy(good)
    bad["data"] = {"not": "an alert"}
    reply, accept = _grid(json.dumps([good, bad, good]).encode())
    assert (reply.status, reply.body["signals"], len(accept.signals)) == (202, 2, 2)
    [refused] = reply.body["rejected"]
    assert refused["index"] == 1
    why = refused["error"]
    assert why.startswith(f"eventgrid event {good['eventType']!r}: not a supported payload: ")
    assert why.endswith("got keys [not]")
