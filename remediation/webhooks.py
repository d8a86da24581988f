"""HTTP entry points as plain functions: bytes and headers in, status and JSON out.

The Functions blueprints and the local host both call these, so the rules (shared secret,
JSON content type, size limit, schema checks, Event Grid handshake) live in one place and
never answer 500 to malformed input. They answer 202 once each signal is recorded and queued
(`Engine.accept`); processing happens on the queue. A store or queue outage answers 503,
which action groups and Event Grid retry. They are coroutines: the Functions worker runs
async functions on its event loop, so an acknowledgement never waits for a thread of the pool.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from remediation.jsonbody import BadJson, loads
from remediation.queue.base import QueueUnavailable
from remediation.signals import Signal, SignalError, legacy_alert, signals_from_payload
from remediation.store import StoreError

log = logging.getLogger(__name__)

MAX_ALERT_BYTES = 256 * 1024
MAX_EVENT_BATCH_BYTES = 1024 * 1024
COMMON_SCHEMA = "azureMonitorCommonAlertSchema"
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"
# How senders present ALERTS_SHARED_SECRET: action groups can only put it in the webhook URL;
# Event Grid can put it in the URL or in a delivery property (a header).
SECRET_HEADER = "x-alert-secret"
SECRET_PARAM = "secret"
# Action groups and Event Grid's own schema post application/json; CloudEvents deliveries use
# the structured-mode types. A browser form or a cross-site fetch without a CORS preflight can
# only send text/plain, form types or none, all refused.
JSON_TYPES = frozenset(
    {"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"}
)


class Taken(Protocol):
    """What recording a signal answers: whether it had been recorded before."""

    @property
    def duplicate(self) -> bool: ...


Accept = Callable[[Signal], Awaitable[Taken]]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


def _reject(status: int, reason: str) -> Reply:
    log.warning("rejected request: %s %s", status, reason)
    return Reply(status, {"error": reason})


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def read_json(body: bytes, limit: int) -> tuple[Any, Reply | None]:
    """The JSON value of `body`, or the 4xx refusal (too large, empty, not JSON, unencodable
    text, nested too deep)."""
    if len(body) > limit:
        return None, _reject(413, f"payload is {len(body)} bytes; the limit is {limit}")
    if not body:
        return None, _reject(400, "empty body; expected JSON")
    try:
        return loads(body), None
    except BadJson as exc:
        return None, _reject(400, str(exc))


def gate(
    headers: Mapping[str, str],
    params: Mapping[str, str] | None,
    shared_secret: str,
    *,
    with_body: bool = True,
) -> Reply | None:
    """The refusal for a request to an ingestion route, or None to let it in: 401 without
    the shared secret (when one is set, compared in constant time), 415 for a body that is
    not JSON by its content type."""
    if shared_secret and not _presents(headers, params or {}, shared_secret):
        return _reject(401, f"missing or wrong ingestion secret ({SECRET_HEADER} or ?secret=)")
    if with_body:
        given = (_header(headers, "content-type") or "").partition(";")[0].strip().lower()
        if given not in JSON_TYPES:
            shown = repr(given[:60]) if given else "none"
            return _reject(
                415, f"content type {shown} refused; send {', '.join(sorted(JSON_TYPES))}"
            )
    return None


def _presents(headers: Mapping[str, str], params: Mapping[str, str], secret: str) -> bool:
    given = _header(headers, SECRET_HEADER) or params.get(SECRET_PARAM)
    # surrogatepass: a query string (or the secret, read from the environment) may decode to
    # text no codec accepts; it compares unequal
    return given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), secret.encode("utf-8", "surrogatepass")
    )


async def handle_alert(
    body: bytes,
    headers: Mapping[str, str],
    accept: Accept,
    shared_secret: str,
    params: Mapping[str, str] | None = None,
) -> Reply:
    """Action-group webhook (common alert schema): 202 once the signal is recorded and queued.

    An alert sent without the common schema is read when it is about Azure Backup or Azure
    Migrate; any other is refused with a reason that says to enable the schema.
    With a shared secret configured, the caller must present it in the `x-alert-secret`
    header or, since action groups cannot set headers, a `secret` query parameter.
    """
    payload, error = _gated_json(body, headers, params, shared_secret, MAX_ALERT_BYTES)
    if error:
        return error
    readable = isinstance(payload, dict) and (
        payload.get("schemaId") == COMMON_SCHEMA or legacy_alert.matches(payload)
    )
    if not readable:
        return _reject(400, f"not a common alert schema payload (schemaId must be {COMMON_SCHEMA})")
    return await _accept_all(payload, accept)


async def handle_eventgrid(
    method: str,
    body: bytes,
    headers: Mapping[str, str],
    accept: Accept,
    shared_secret: str,
    params: Mapping[str, str] | None = None,
) -> Reply:
    """Event Grid webhook delivery, both schemas, with the validation handshakes.

    Event Grid sends both handshakes to the subscription's URL, so a secret in that URL
    (`?secret=`) passes them like any delivery; a request without it gets no handshake."""
    if method.upper() == "OPTIONS":  # CloudEvents abuse-protection handshake
        refused = gate(headers, params, shared_secret, with_body=False)
        if refused:
            return refused
        origin = _header(headers, "WebHook-Request-Origin")
        if not origin:
            return _reject(400, "OPTIONS without WebHook-Request-Origin")
        return Reply(200, None, {"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "120"})
    payload, error = _gated_json(body, headers, params, shared_secret, MAX_EVENT_BATCH_BYTES)
    if error:
        return error
    events = payload if isinstance(payload, list) else [payload]
    if not events or not all(isinstance(e, dict) for e in events):
        return _reject(400, "expected an event object or a non-empty array of events")
    first = events[0]
    if first.get("eventType") == VALIDATION_EVENT:
        code = (
            (first.get("data") or {}).get("validationCode")
            if isinstance(first.get("data"), dict)
            else None
        )
        if not isinstance(code, str) or not code:
            return _reject(400, "validation event without data.validationCode")
        return Reply(200, {"validationResponse": code})
    return await _accept_batch(events, accept)


def _gated_json(
    body: bytes,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None,
    shared_secret: str,
    limit: int,
) -> tuple[Any, Reply | None]:
    refused = gate(headers, params, shared_secret)
    return (None, refused) if refused else read_json(body, limit)


async def _accept_batch(events: list[dict[str, Any]], accept: Accept) -> Reply:
    accepted, errors = 0, []
    for index, event in enumerate(events):
        reply = await _accept_all(event, accept)
        if reply.status == 503:  # the whole batch again: the events already taken are duplicates
            return reply
        body = reply.body
        assert isinstance(body, dict)  # _accept_all answers a JSON object
        if reply.status >= 400:
            errors.append({"index": index, "error": body["error"]})
        else:
            accepted += body["signals"]
    if errors and not accepted:
        return Reply(400, {"error": "no event could be read", "events": errors})
    return Reply(202, {"status": "accepted", "signals": accepted, "rejected": errors})


async def _accept_all(payload: Any, accept: Accept) -> Reply:
    try:
        signals = signals_from_payload(payload)
    except SignalError as exc:
        return _reject(400, str(exc))
    try:
        results = [await accept(signal) for signal in signals]
    except QueueUnavailable as exc:
        return _reject(503, str(exc))
    except StoreError as exc:
        log.warning("store refused a signal: %s", exc)
        return _reject(503, f"signal not recorded ({type(exc).__name__}); try again")
    duplicates = sum(1 for r in results if r.duplicate)
    return Reply(202, {"status": "accepted", "signals": len(signals), "duplicates": duplicates})
