"""The remediation queue: playbook steps and recorded signals to ingest, serialised per resource.

One queue carries two kinds of message, told apart by the `kind` field of the JSON body:
`step` runs one playbook step, `ingest` processes one signal the webhooks recorded. A body
without `kind` is a step (the only kind before ingestion moved off the webhook's path).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_ID_CHARS = 128  # Service Bus limit for session and message ids


class QueueError(ValueError):
    """A queue message that cannot be understood; it is settled, never retried forever."""


class QueueUnavailable(Exception):
    """A message could not be sent (the transport failed); the reason says why."""


@dataclass(frozen=True, slots=True)
class StepMessage:
    """Run `step` of remediation run `run_id`.

    `session_id` is the target resource, so one VM's steps never run concurrently;
    `message_id` is stable per (run, step, attempt) so a redelivered send is deduplicated.
    """

    run_id: str
    step: int
    attempt: int = 0
    session_id: str = ""
    delay_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    kind = "step"

    @property
    def message_id(self) -> str:
        return f"{self.run_id}:{self.step}:{self.attempt}"

    @property
    def subject(self) -> str:
        return f"step {self.step}"

    @property
    def session(self) -> str:
        """The session to send in: the resource, else the run (its steps stay in order)."""
        return self.session_id or self.run_id

    def to_json(self) -> str:
        body = {"run_id": self.run_id, "step": self.step, "attempt": self.attempt}
        return json.dumps({**self.extra, "kind": self.kind, **body})

    @classmethod
    def from_json(cls, body: str | bytes, session_id: str = "") -> StepMessage:
        return cls.from_data(_object(body), session_id)

    @classmethod
    def from_data(cls, data: dict[str, Any], session_id: str = "") -> StepMessage:
        data = dict(data)
        data.pop("kind", None)
        try:
            run_id, step, attempt = data.pop("run_id"), data.pop("step"), data.pop("attempt", 0)
        except KeyError as exc:
            raise QueueError(f"not a remediation step message: missing {exc}") from exc
        if not isinstance(run_id, str) or not _is_int(step) or not _is_int(attempt):
            raise QueueError("run_id must be a string, step and attempt integers")
        return cls(run_id, step, attempt, session_id=session_id, extra=data)


@dataclass(frozen=True, slots=True)
class IngestMessage:
    """Process the signal recorded under `dedup_key`: classify, correlate, plan, card.

    `session_id` is the signal's resource, so one VM's signals are processed in order;
    `attempt` counts re-sends by the sweep, so each re-send gets a fresh message id while a
    webhook's redelivered send of the same attempt is deduplicated.
    """

    dedup_key: str
    attempt: int = 0
    session_id: str = ""
    delay_seconds: float = 0.0

    kind = "ingest"

    @property
    def message_id(self) -> str:
        return f"ingest:{self.dedup_key}:{self.attempt}"

    @property
    def subject(self) -> str:
        return "ingest"

    @property
    def session(self) -> str:
        """The session to send in: the resource, else the signal itself."""
        return self.session_id or self.dedup_key

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "dedup_key": self.dedup_key, "attempt": self.attempt})

    @classmethod
    def from_data(cls, data: dict[str, Any], session_id: str = "") -> IngestMessage:
        key, attempt = data.get("dedup_key"), data.get("attempt", 0)
        if not isinstance(key, str) or not key or len(key) > MAX_ID_CHARS // 2:
            raise QueueError("an ingest message needs dedup_key, a short non-empty string")
        if not _is_int(attempt):
            raise QueueError("an ingest message's attempt must be an integer")
        return cls(key, attempt, session_id=session_id)


Message = StepMessage | IngestMessage
_KINDS: dict[str, type[StepMessage] | type[IngestMessage]] = {
    StepMessage.kind: StepMessage,
    IngestMessage.kind: IngestMessage,
}


def parse_message(body: str | bytes, session_id: str = "") -> Message:
    """Read a queue message of either kind; raises QueueError with the reason otherwise."""
    data = _object(body)
    kind = data.get("kind", StepMessage.kind)
    if kind not in _KINDS:
        raise QueueError(f"unknown message kind {kind!r}; expected one of {sorted(_KINDS)}")
    return _KINDS[kind].from_data(data, session_id)


def bounded_id(value: str) -> str:
    """`value` if it fits Service Bus's 128 characters, else a readable prefix and a hash.

    Migration item ids are longer than that; the hash keeps one resource one session.
    """
    if len(value) <= MAX_ID_CHARS:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{value[: MAX_ID_CHARS - len(digest) - 1]}~{digest}"


def _object(body: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:
        raise QueueError(f"not a remediation queue message: {exc}") from exc
    if not isinstance(data, dict):
        raise QueueError(f"a queue message must be a JSON object, not {type(data).__name__}")
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Queue(Protocol):
    def send(self, message: Message) -> None:
        """Enqueue, delivering no earlier than `message.delay_seconds` from now."""

    async def asend(self, message: Message) -> None:
        """`send` for the webhooks' accept path, which runs on the event loop."""
