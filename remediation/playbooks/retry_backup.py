"""retry-backup: confirm the failure, wait out its transient cause, back up again and follow
the job that backup created to its end."""

from __future__ import annotations

from remediation.playbooks import verify
from remediation.playbooks.backup_steps import BACKUP_STEPS, CONFIRM_BACKUP
from remediation.playbooks.base import Playbook, RunContext, Step, StepFailed, StepResult

SETTLE_SECONDS = 300.0
VM_AGENT_READY = "vm-agent-ready"


def settle(ctx: RunContext) -> StepResult:
    """A scheduled message, not a sleep: give the transient cause time to clear."""
    if ctx.state.get("settled"):
        return StepResult.next("waited 5 min for the cause to clear")
    ctx.state["settled"] = True
    return StepResult.wait(SETTLE_SECONDS, "waiting 5 min before the retry")


def check_vm_agent(ctx: RunContext) -> StepResult:
    """The catalogue's precondition: a backup needs the agent of a running VM; without it the
    retry would fail the same way, so nothing is triggered."""
    view = ctx.arm.instance_view(verify.target_vm_id(ctx))
    vm, power = ctx.target.get("vm"), verify.power_state(view)
    if power and power != "running":
        raise StepFailed(
            f"VM {vm} is {power}: start it, then retry the fix (a backup needs the agent of a "
            "running VM). Nothing was changed."
        )
    if not verify.agent_ready(view):
        shown = ", ".join(verify.agent_statuses(view)) or "silent"
        raise StepFailed(
            f"The VM agent of {vm} is {shown} (agent {verify.agent_version(view)}): a backup now "
            "would fail the same way. Restart the agent (the Windows Azure Guest Agent service, "
            "or waagent on Linux), then retry the fix. Nothing was changed."
        )
    return StepResult.next(f"the VM agent of {vm} is Ready")


PLAYBOOK = Playbook(
    "retry-backup",
    (
        CONFIRM_BACKUP,
        Step("settle", settle),
        Step("check-vm-agent", check_vm_agent, checks=(VM_AGENT_READY,)),
        *BACKUP_STEPS,
    ),
    "Confirm the failure, wait, check the VM agent is Ready and no backup job is running, "
    "trigger an on-demand backup and follow it to the end.",
)
