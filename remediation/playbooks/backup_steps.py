"""Steps shared by the Azure Backup playbooks: trigger an on-demand backup, follow its job."""

from __future__ import annotations

from remediation.playbooks.base import RunContext, Step, StepFailed, StepResult

POLL_SECONDS = 60.0
BUSY_WAIT_SECONDS = 600.0
MAX_BUSY_WAITS = 12


def _vm_id(ctx: RunContext) -> str:
    return ctx.target["resource_id"]


def trigger_backup(ctx: RunContext) -> StepResult:
    """Trigger once: our own job from before a crash is adopted, another one is waited out."""
    if ctx.state.get("backup_job"):
        return StepResult.next("backup already triggered")
    vault_id, vm = ctx.target["vault_id"], ctx.target["vm"]
    if ctx.interrupted_at:
        ours = [
            j
            for j in ctx.arm.list_backup_jobs(vault_id, vm)
            if _started_since(j, ctx.interrupted_at)
        ]
        if ours:
            ctx.state["backup_job"] = ours[0]["name"]
            return StepResult.next(f"resumed following backup job {ours[0]['name']}")
    running = ctx.arm.list_backup_jobs(vault_id, vm, status="InProgress")
    if running:
        waits = ctx.state.get("busy_waits", 0)
        if waits >= MAX_BUSY_WAITS:
            raise StepFailed("another backup job has been in progress for too long")
        ctx.state["busy_waits"] = waits + 1
        return StepResult.wait(BUSY_WAIT_SECONDS, "another backup job is in progress")
    ctx.arm.trigger_backup(_vm_id(ctx), vault_id)
    started = ctx.arm.list_backup_jobs(vault_id, vm, status="InProgress")
    job = started[0]["name"] if started else None
    ctx.state["backup_job"] = job
    return StepResult.next(f"on-demand backup started (job {job})")


def _started_since(job: dict, moment: str) -> bool:
    from remediation.clock import parse_iso

    started = (job.get("properties") or {}).get("startTime")
    return bool(started) and parse_iso(str(started).replace("Z", "+00:00")) >= parse_iso(moment)


def follow_backup(ctx: RunContext) -> StepResult:
    job = ctx.state.get("backup_job")
    if not job:
        return StepResult.next("no backup job to follow")
    props = ctx.arm.get_backup_job(ctx.target["vault_id"], job).get("properties") or {}
    status = props.get("status")
    if status in {"InProgress", "Cancelling", None}:
        return StepResult.wait(POLL_SECONDS, f"backup job {job} is {status}")
    if status in {"Completed", "CompletedWithWarnings"}:
        return StepResult.next(f"backup job {job} {status}")
    errors = props.get("errorDetails") or []
    reason = errors[0].get("errorString") if errors else ""
    raise StepFailed(f"backup job {job} ended {status}: {reason}".strip(": "))


BACKUP_STEPS = (
    Step("trigger-backup", trigger_backup, writes=True),
    Step("follow-backup", follow_backup),
)
