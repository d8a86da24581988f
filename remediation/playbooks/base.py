"""Playbooks: small sequences of idempotent steps, each checking state before it writes.

A step never assumes the previous attempt failed: a restarted worker re-runs the step it was
on, so every step first reads Azure and does nothing if its effect is already there.

Three rules from first contact with Azure shape every playbook:
- a signal is a hint: the first steps read Azure to confirm the failure for the exact
  resource (`confirms=True`); an unconfirmed signal ends the run `not-confirmed` before any
  write;
- the catalogue's preconditions are steps (`checks=`), before the first write;
- success is read, not assumed: the last steps read the effect back from Azure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from remediation.clock import Clock, iso, parse_iso
from remediation.records import FixTarget, Run

if TYPE_CHECKING:
    from remediation.azure.api import ArmApi
    from remediation.leases import Leases

Kind = Literal["next", "wait", "failed", "unconfirmed"]


@dataclass(frozen=True, slots=True)
class StepResult:
    kind: Kind
    note: str = ""
    delay_seconds: float = 0.0

    @classmethod
    def next(cls, note: str) -> StepResult:
        return cls("next", note)

    @classmethod
    def wait(cls, seconds: float, note: str) -> StepResult:
        """Run this same step again later (a scheduled message, not a sleep)."""
        return cls("wait", note, seconds)

    @classmethod
    def failed(cls, note: str) -> StepResult:
        return cls("failed", note)

    @classmethod
    def unconfirmed(cls, note: str) -> StepResult:
        """Azure does not show the failure the signal claims: stop, write nothing."""
        return cls("unconfirmed", note)


class StepFailed(Exception):
    """A permanent failure with a reason for the card (not retried)."""


@dataclass
class RunContext:
    """What a step sees: the run's persisted state and the services it may use."""

    run: Run
    arm: ArmApi
    dry_run: bool
    now: Clock
    interrupted_at: str | None  # when a previous attempt of this step died mid-way
    leases: Leases  # exclusive use of shared resources
    # The catalogue entries the failures in a payload (a Backup job, a migration item)
    # classify to, by the same classifier the signals went through.
    entries_of: Callable[[dict[str, Any]], frozenset[str]] = lambda payload: frozenset()

    @property
    def state(self) -> dict[str, Any]:
        """Persisted scratch space of the run (ids found, locks recorded, job ids)."""
        return self.run["context"]

    @property
    def target(self) -> FixTarget:
        return self.run["target"]

    @property
    def choice(self) -> str | None:
        """What the approver chose among the plan's options (e.g. keep the lock off)."""
        return self.run.get("choice")

    def sending(self, key: str) -> None:
        """Note the time before a write that is not idempotent (a POST that starts a job):
        Azure may take it and the answer be lost, and a later attempt must then look for the
        job it started instead of starting a second (see `sent_before`)."""
        self.state[key] = iso(self.now())

    def sent_before(self, key: str) -> str | None:
        """When an earlier attempt of this step may have reached Azure without the run reading
        the answer: its worker died mid-step, or the answer was lost on the way back."""
        return self.interrupted_at or self.state.get(key)


StepFn = Callable[[RunContext], StepResult]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: StepFn
    writes: bool = False
    always: bool = False  # compensation: runs after success and after failure alike
    confirms: bool = False  # its success confirms the failure from Azure
    checks: tuple[str, ...] = ()  # catalogue preconditions (ids) this step checks
    plans: str = ""  # for a write step: what it will do, as a card and a dry run list it


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

    def planned_writes(self, start: int = 0) -> list[str]:
        """What the write steps from `start` on will do, in order."""
        return [s.plans or s.name for s in self.steps[start:] if s.writes]

    def checked_before_first_write(self) -> list[str]:
        """The preconditions some step checks before the playbook's first write, in order."""
        checked: list[str] = []
        for step in self.steps:
            if step.writes:
                break
            checked += [c for c in step.checks if c not in checked]
        return checked


def started_since(started: object, moment: str) -> bool:
    """Azure's start time of a job (ISO 8601, often with a Z) is at or after `moment`; a job
    without a readable one is not known to be."""
    try:
        return isinstance(started, str) and parse_iso(started) >= parse_iso(moment)
    except ValueError:
        return False


def follow_again(
    ctx: RunContext, key: str, limit: int, seconds: float, what: str, status: str
) -> StepResult:
    """Read `what` again in `seconds`, at most `limit` times (counted under `key`): a job that
    never ends is given up, so the playbook's closing steps (a lock put back) still run."""
    polls = ctx.state.get(key, 0)
    if polls >= limit:
        raise StepFailed(
            f"{what} is still {status} after {polls} checks, {seconds / 60:g} min apart: "
            "the fix stops following it"
        )
    ctx.state[key] = polls + 1
    return StepResult.wait(seconds, f"{what} is {status}")
