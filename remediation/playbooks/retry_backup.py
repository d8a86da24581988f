"""retry-backup: wait out a transient failure, then take an on-demand backup."""

from __future__ import annotations

from remediation.playbooks.backup_steps import BACKUP_STEPS
from remediation.playbooks.base import Playbook, RunContext, Step, StepResult

SETTLE_SECONDS = 300.0


def settle(ctx: RunContext) -> StepResult:
    """A scheduled message, not a sleep: give the transient cause time to clear."""
    if ctx.state.get("settled"):
        return StepResult.next("waited")
    ctx.state["settled"] = True
    return StepResult.wait(SETTLE_SECONDS, "waiting before the retry")


PLAYBOOK = Playbook(
    "retry-backup",
    (Step("settle", settle), *BACKUP_STEPS),
    "Wait, check no backup job is running, trigger an on-demand backup and follow it.",
)
