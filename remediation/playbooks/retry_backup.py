"""retry-backup: confirm the failure, wait out its transient cause, back up again and follow
the job that backup created to its end."""

from __future__ import annotations

from remediation.playbooks.backup_steps import BACKUP_STEPS, CONFIRM_BACKUP
from remediation.playbooks.base import Playbook, RunContext, Step, StepResult

SETTLE_SECONDS = 300.0


def settle(ctx: RunContext) -> StepResult:
    """A scheduled message, not a sleep: give the transient cause time to clear."""
    if ctx.state.get("settled"):
        return StepResult.next("waited 5 min for the cause to clear")
    ctx.state["settled"] = True
    return StepResult.wait(SETTLE_SECONDS, "waiting 5 min before the retry")


PLAYBOOK = Playbook(
    "retry-backup",
    (CONFIRM_BACKUP, Step("settle", settle), *BACKUP_STEPS),
    "Confirm the failure, wait, check no backup job is running, trigger an on-demand backup "
    "and follow it to the end.",
)
