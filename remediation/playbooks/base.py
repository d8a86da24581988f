"""Playbooks: small sequences of idempotent steps, each checking state before it writes.

A step never assumes the previous attempt failed: a restarted worker re-runs the step it was
on, so every step first reads Azure and does nothing if its effect is already there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["next", "wait", "done", "failed"]


@dataclass(frozen=True, slots=True)
class StepResult:
    kind: Kind
    note: str = ""
    delay_seconds: float = 0.0

    @classmethod
    def next(cls, note: str = "") -> StepResult:
        return cls("next", note)

    @classmethod
    def wait(cls, seconds: float, note: str = "") -> StepResult:
        """Run this same step again later (a scheduled message, not a sleep)."""
        return cls("wait", note, seconds)

    @classmethod
    def done(cls, note: str = "") -> StepResult:
        """Finish early with success (nothing left to do)."""
        return cls("done", note)

    @classmethod
    def failed(cls, note: str) -> StepResult:
        return cls("failed", note)


class StepFailed(Exception):
    """A permanent failure with a reason for the card (not retried)."""


@dataclass
class RunContext:
    """What a step sees: the run's persisted state and the services it may use."""

    run: dict[str, Any]
    arm: Any
    dry_run: bool
    now: Callable[[], Any]
    interrupted_at: str | None = None  # when a previous attempt of this step died mid-way
    leases: Any = None  # remediation.leases.Leases: exclusive use of shared resources

    @property
    def state(self) -> dict[str, Any]:
        """Persisted scratch space of the run (ids found, locks recorded, job ids)."""
        return self.run["context"]

    @property
    def target(self) -> dict[str, Any]:
        return self.run["target"]


StepFn = Callable[[RunContext], StepResult]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: StepFn
    writes: bool = False
    always: bool = False  # compensation: runs after success and after failure alike


@dataclass(frozen=True, slots=True)
class Playbook:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    max_attempts: int = 4
    metadata: dict[str, Any] = field(default_factory=dict)

    def index_of(self, name: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.name == name)

    def first_always_after(self, index: int) -> int | None:
        """Where a failed run continues: the next compensation step, if any."""
        for i in range(index + 1, len(self.steps)):
            if self.steps[i].always:
                return i
        return None
