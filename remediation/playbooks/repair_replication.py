"""repair-replication: resync an agentless VMware migration item and follow its job."""

from __future__ import annotations

from remediation.playbooks.base import Playbook, RunContext, Step, StepFailed, StepResult

POLL_SECONDS = 60.0
FINISHED = {"Succeeded": True, "Failed": False, "Cancelled": False, "Suspended": False}


def check_item(ctx: RunContext) -> StepResult:
    item = ctx.arm.get_migration_item(ctx.target["resource_id"])
    props = item.get("properties") or {}
    ctx.state["health_before"] = props.get("health")
    current = (props.get("currentJob") or {}).get("jobName")
    if props.get("health") == "Normal" and not props.get("healthErrors"):
        return StepResult.done("replication is already healthy")
    if "StartResync" not in (props.get("allowedOperations") or []):
        if current:
            ctx.state["job"] = current  # a resync or cycle is already running: follow it
            return StepResult.next(f"job {current} already running")
        raise StepFailed("Azure does not allow a resync of this item now (no StartResync)")
    return StepResult.next("resync allowed")


def start_resync(ctx: RunContext) -> StepResult:
    """POST resync unless a job already runs (a restarted worker may have sent it already)."""
    if ctx.state.get("job"):
        return StepResult.next("resync already started")
    running = _current_job(ctx)
    if running is None:
        ctx.arm.resync(ctx.target["resource_id"])
        running = _current_job(ctx)
    ctx.state["job"] = running
    return StepResult.next(f"resync started (job {running})")


def _current_job(ctx: RunContext) -> str | None:
    item = ctx.arm.get_migration_item(ctx.target["resource_id"])
    return ((item.get("properties") or {}).get("currentJob") or {}).get("jobName")


def follow_job(ctx: RunContext) -> StepResult:
    job = ctx.state.get("job")
    if not job:
        return StepResult.next("no job to follow")
    vault_id = ctx.target.get("vault_id") or _vault_of(ctx.target["resource_id"])
    state = (ctx.arm.get_replication_job(vault_id, job).get("properties") or {}).get("state")
    if state not in FINISHED:
        return StepResult.wait(POLL_SECONDS, f"job {job} is {state}")
    if not FINISHED[state]:
        raise StepFailed(f"replication job {job} ended {state}")
    return StepResult.next(f"job {job} succeeded")


def _vault_of(resource_id: str) -> str:
    from remediation.signals.arm_id import ArmId

    arm = ArmId.parse(resource_id)
    return arm.vault_id if arm else ""


PLAYBOOK = Playbook(
    "repair-replication",
    (
        Step("check-item", check_item),
        Step("start-resync", start_resync, writes=True),
        Step("follow-job", follow_job),
    ),
    "Resync the migration item (VMwareCbt, without resetting CBT) and follow the job.",
)
