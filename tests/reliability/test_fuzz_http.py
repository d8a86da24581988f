"""Hostile payloads over real HTTP to a running `serve --simulate`: never a 5xx, every refusal
a 4xx with a JSON reason that stores nothing, and a 202 only for what is still a valid alert
or event, which then lands in exactly the incidents its signals belong to."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.localhost.devchat.app import DEV_BOT_APP_ID
from devtools.localhost.devchat.botframework import METADATA_PATH, BotFrameworkIssuer
from remediation.classify import classify
from remediation.jsonbody import MAX_DEPTH
from remediation.policy import Policy
from remediation.scope import ignored_because
from remediation.signals import SignalError, legacy_alert, signals_from_payload
from remediation.webhooks import COMMON_SCHEMA, MAX_ALERT_BYTES
from tests.localhost.process import demo_rp_limit_alert
from tests.reliability.payloads import deep_bytes, junk_bodies, load_samples, mutated
from tests.reliability.served import Server, eventually, running_server
from tests.reliability.summary import record

# 10,000 payloads: 1,000 for each test that judges stored state payload by payload, and 200
# batches of 10 for each test where every payload must be refused. Hypothesis's cost per
# example (2 ms for junk), more than a post on loopback (1.5 ms), bounds the rate; drawing
# ten per example costs a ninth as much per payload. Concurrent posts measured no faster.
EXAMPLES = 1_000
BATCH = 10
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_BATCHES = settings(FUZZ, max_examples=200)
ALERTS = load_samples(
    "common_alert_backup_failure_rp_limit.json",
    "common_alert_backup_failure_guest_agent_fr.json",
    "common_alert_backup_resolved.json",
)
EVENTS = load_samples(
    "eventgrid_event_wrapping_alert.json",
    "eventgrid_batch_resource_notification_and_alert.json",
    "eventgrid_subscription_validation.json",
    "cloudevent_wrapping_migration_item.json",
    "cloudevents_base64_backup_job.json",
)
ACTIVITIES = load_samples(
    *(f"bot/{name}.json" for name in ("message_channel", "invoke_action_execute",
                                      "installation_update_add", "conversation_update_bot_added"))
)  # fmt: skip
JSON = {"Content-Type": "application/json"}
ALERT_NUMBERS = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("fuzz")) as running:
        running.session.trust_env = False  # loopback only: no proxy or netrc lookup per post
        yield running
        log = running.served.log_text()
    assert "Error handling request" not in log, "a request crashed its handler"


def _post(server: Server, route: str, body: bytes, headers: dict[str, str] | None = None):
    return server.session.post(
        server.base + route, data=body, headers={**JSON, **(headers or {})}, timeout=30
    )


def _refused(response: requests.Response) -> dict[str, Any]:
    """A 4xx whose JSON body names the error."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
    return body


def _tally(route: str, responses: list[requests.Response], stored: bool) -> None:
    codes = [response.status_code for response in responses]
    record("fuzz", payloads=len(codes), answered_5xx=sum(code >= 500 for code in codes),
           refused=sum(400 <= code < 500 for code in codes), stored_by_refusal=int(stored),
           **{"to_" + route.partition("?")[0]: len(codes)})  # fmt: skip


def _send(server: Server, route: str, body: bytes, headers=None) -> requests.Response:
    """Post, and check that a refusal stored nothing and that nothing answered 5xx."""
    before = server.store.counts()
    response = _post(server, route, body, headers)
    refused = response.status_code >= 400
    stored = refused and server.store.counts() != before
    _tally(route, [response], stored)
    assert response.status_code < 500, (route, response.status_code, response.text[:300])
    if refused:
        _refused(response)
        assert not stored, f"{route} refused {body[:200]!r} but stored"
    return response


def _refuse_all(server: Server, route: str, sends: list[tuple[bytes, dict]]) -> list[dict]:
    """Post each (body, headers) in turn: each is refused with a reason, and the batch stored
    nothing. One store check per batch (a check costs about as much as a post); hypothesis
    shrinks a failing batch down to the payload at fault."""
    before = server.store.counts()
    responses = [_post(server, route, body, headers) for body, headers in sends]
    stored = server.store.counts() != before
    _tally(route, responses, stored)
    for response in responses:
        assert response.status_code < 500, (route, response.status_code, response.text[:300])
    refusals = [_refused(response) for response in responses]
    assert not stored, f"{route} refused a batch but stored"
    return refusals


def _encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _batches(strategy: st.SearchStrategy, unique_by: Callable[[Any], Any] | None = None):
    """BATCH distinct drawn values (hypothesis repeats list elements unless told not to)."""
    if unique_by is None:
        return st.lists(strategy, min_size=BATCH, max_size=BATCH, unique=True)
    return st.lists(strategy, min_size=BATCH, max_size=BATCH, unique_by=unique_by)


def _parse(payload: Any) -> list | None:
    """The product's own reading of one payload: its signals, or None when it is invalid."""
    try:
        return signals_from_payload(payload)
    except SignalError:
        return None


def _readable_json(payload: Any) -> bool:
    """Whether every route may read `payload`: each text has a UTF-8 form (a lone surrogate
    has none) and it nests at most MAX_DEPTH levels (mutations can nest deep values)."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _depth(payload) <= MAX_DEPTH


def _depth(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value
    if not isinstance(value, dict | list):
        return 0
    return 1 + max((_depth(child) for child in children), default=0)


def _landed(server: Server, before: dict[str, int], total: int, new: int, signals: list) -> None:
    """`new` signals were recorded and each fired one the scope keeps joined or opened an
    incident; one the scope ignores (out of scope, not a failure) joined none."""
    assert eventually(lambda: server.store.counts()["signals"] - before["signals"] == new)
    server.served.wait_processed()
    joined = server.store.signal_total() - total
    grown = server.store.counts()["incidents"] - before["incidents"]
    assert 0 <= grown <= new
    kept = [s for s in signals if ignored_because(s, classify(s), Policy().scope) is None]
    if not kept:
        assert joined == 0 and grown == 0
    elif len(kept) == len(signals) and not any(s.resolved for s in signals):
        assert joined == new
    else:
        assert 0 <= joined <= new


# -- /api/alerts -----------------------------------------------------------------------------


@FUZZ_BATCHES
@given(bodies=_batches(junk_bodies))
def test_alert_webhook_refuses_junk(server, bodies):
    _refuse_all(server, "/api/alerts", [(body, {}) for body in bodies])


def _fresh_alert_id(payload: Any) -> None:
    """A new alert id where the mutation left one, so the alert is not a mere redelivery."""
    data = payload.get("data") if isinstance(payload, dict) else None
    essentials = data.get("essentials") if isinstance(data, dict) else None
    if isinstance(essentials, dict) and isinstance(essentials.get("alertId"), str):
        essentials["alertId"] += f"-{next(ALERT_NUMBERS)}"


@FUZZ
@given(payload=mutated(ALERTS))
def test_alert_webhook_accepts_only_valid_mutated_alerts(server, payload):
    _fresh_alert_id(payload)
    body = _encode(payload)
    before, total = server.store.counts(), server.store.signal_total()
    response = _send(server, "/api/alerts", body)
    is_alert = isinstance(payload, dict) and (
        payload.get("schemaId") == COMMON_SCHEMA or legacy_alert.matches(payload)
    )
    readable = is_alert and len(body) <= MAX_ALERT_BYTES and _readable_json(payload)
    signals = _parse(payload) if readable else None
    if signals is None:
        _refused(response)
        return
    assert response.status_code == 202, response.text[:300]
    answer = response.json()
    assert answer["signals"] == len(signals) and 0 <= answer["duplicates"] <= len(signals)
    _landed(server, before, total, answer["signals"] - answer["duplicates"], signals)


# -- /api/eventgrid --------------------------------------------------------------------------


@FUZZ_BATCHES
@given(bodies=_batches(junk_bodies))
def test_event_grid_webhook_refuses_junk(server, bodies):
    _refuse_all(server, "/api/eventgrid", [(body, {}) for body in bodies])


@FUZZ
@given(payload=mutated(EVENTS))
def test_event_grid_webhook_accepts_exactly_the_readable_events(server, payload):
    before, total = server.store.counts(), server.store.signal_total()
    response = _send(server, "/api/eventgrid", _encode(payload))
    if not _readable_json(payload):  # the whole delivery: no event of it is half-read
        _refused(response)
        return
    if response.status_code == 200:  # the subscription handshake stores nothing
        assert set(response.json()) == {"validationResponse"}
        assert server.store.counts() == before
        return
    if response.status_code != 202:
        _refused(response)
        return
    events = payload if isinstance(payload, list) else [payload]
    answer = response.json()
    rejected = {item["index"] for item in answer["rejected"]}
    readable = {i: _parse(e) for i, e in enumerate(events)}
    assert rejected == {i for i, signals in readable.items() if signals is None}
    expected = [s for signals in readable.values() if signals for s in signals]
    assert answer["signals"] == len(expected) >= 1
    new = server.store.counts()["signals"] - before["signals"]
    assert 0 <= new <= len(expected)
    _landed(server, before, total, new, expected)


# -- /api/messages ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forged(server) -> Callable[[str], str]:
    """Tokens the bot must refuse: right issuer, audience and key id, signed with another key."""
    issuer = BotFrameworkIssuer(DEV_BOT_APP_ID)  # a fresh key the bot never saw
    issuer.kid = server.session.get(_keys_url(server), timeout=10).json()["keys"][0]["kid"]
    return issuer.header


def _keys_url(server: Server) -> str:
    metadata = server.session.get(server.base + "/dev/botframework" + METADATA_PATH, timeout=10)
    return metadata.json()["jwks_uri"]


def _authorization(forged, variant: str, payload: Any) -> dict[str, str]:
    if variant == "unsigned":
        return {}
    if variant == "garbage":
        return {"Authorization": "Bearer not.a.token"}
    service_url = payload.get("serviceUrl") if isinstance(payload, dict) else None
    # A claim cut short: a token over 8 KB is refused by the HTTP parser, before the bot.
    return {"Authorization": forged(str(service_url)[:200])}


@FUZZ_BATCHES
@given(
    sends=_batches(
        st.tuples(junk_bodies, st.sampled_from(["unsigned", "forged", "garbage"])),
        unique_by=lambda send: send[0],
    )
)
def test_bot_endpoint_refuses_junk(server, forged, sends):
    signed = [(body, _authorization(forged, variant, None)) for body, variant in sends]
    _refuse_all(server, "/api/messages", signed)


@FUZZ_BATCHES
@given(
    sends=_batches(
        st.tuples(mutated(ACTIVITIES), st.sampled_from(["unsigned", "forged"])),
        unique_by=lambda send: _encode(send[0]),
    )
)
def test_bot_endpoint_refuses_mutated_activities_without_a_valid_token(server, forged, sends):
    signed = []
    for payload, variant in sends:
        if isinstance(payload, dict) and isinstance(payload.get("serviceUrl"), str):
            payload["serviceUrl"] = server.base + "/dev/connector/"
        signed.append((_encode(payload), _authorization(forged, variant, payload)))
    for body in _refuse_all(server, "/api/messages", signed):
        assert body["reason"]


# -- regressions the fuzzing found -------------------------------------------------------------

TRIGGER = "/runtime/webhooks/eventgrid?functionName=eventgrid_trigger"


@pytest.mark.parametrize("route", ["/api/messages", TRIGGER])
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_json_nested_too_deep_to_decode_is_a_400(server, route, kind):
    body = _refused(_send(server, route, deep_bytes(5000, kind)))
    assert "JSON" in json.dumps(body)


def _wrapped(route: str, alert: dict) -> Any:
    if route == "/api/alerts":
        return alert
    return [{"id": "e-1", "eventType": "X", "subject": "s", "dataVersion": "1", "data": alert}]


@pytest.mark.parametrize("route", ["/api/alerts", "/api/eventgrid", TRIGGER])
@pytest.mark.parametrize("field", ["linkedResourceName", "description"])
def test_a_lone_surrogate_is_refused_before_any_signal_exists(server, route, field):
    """It once got past the UTF-8 check: a 500 (in the VM name), or a signal accepted whose
    card could never be rendered (in the description)."""
    alert = demo_rp_limit_alert("erp-app-04")
    if field == "description":
        alert["data"]["essentials"]["description"] += " evil\ud800"
    else:
        alert["data"]["alertContext"][field] = "evil\ud800vm"
    body = _refused(_send(server, route, _encode(_wrapped(route, alert))))
    assert "surrogate" in json.dumps(body)


def test_an_identifier_too_long_to_store_is_refused_and_blocks_nothing(server):
    oversized = demo_rp_limit_alert("erp-app-04")
    oversized["data"]["alertContext"]["linkedResourceName"] = "v" * 200_000
    body = _refused(_send(server, "/api/alerts", _encode(oversized)))
    assert "limit" in body["error"]
    # the same root cause and vault, with a real VM, still opens its incident
    assert _send(server, "/api/alerts", _encode(demo_rp_limit_alert("erp-app-04"))).ok


def test_the_server_is_still_up_and_answers_valid_requests(server):
    status = server.chat("status")
    assert status["activities"], "the bot still answers in chat"
    assert server.session.get(server.base + "/dev/api/threads", timeout=10).json()["installed"]
