"""The remediation queue: one message per playbook step, serialised per resource."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


class QueueError(ValueError):
    """A queue message that cannot be understood; it is settled, never retried forever."""


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

    @property
    def message_id(self) -> str:
        return f"{self.run_id}:{self.step}:{self.attempt}"

    def to_json(self) -> str:
        return json.dumps(
            {"run_id": self.run_id, "step": self.step, "attempt": self.attempt, **self.extra}
        )

    @classmethod
    def from_json(cls, body: str | bytes, session_id: str = "") -> StepMessage:
        try:
            data = json.loads(body)
            run_id, step, attempt = data.pop("run_id"), data.pop("step"), data.pop("attempt", 0)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise QueueError(f"not a remediation step message: {exc}") from exc
        if not isinstance(run_id, str) or not isinstance(step, int) or not isinstance(attempt, int):
            raise QueueError("run_id must be a string, step and attempt integers")
        return cls(run_id, step, attempt, session_id=session_id, extra=data)


class Queue(Protocol):
    def send(self, message: StepMessage) -> None:
        """Enqueue, delivering no earlier than `message.delay_seconds` from now."""
