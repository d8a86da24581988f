"""Steps shared by the Azure Backup playbooks: confirm the failure, wait for a running backup,
trigger an on-demand backup and follow the very job that trigger created.

The job is known only from Azure's own answers: the trigger's 202 names an operation, the
operation names the job once the service has created it, and the job is then read by id until
it ends. A restarted worker never triggers twice: it adopts a job that started while it died.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from azure.core.exceptions import HttpResponseError

from remediation.playbooks import verify
from remediation.playbooks.base import (
    RunContext,
    Step,
    StepFailed,
    StepResult,
    follow_again,
    started_since,
)

POLL_SECONDS = 60.0
MAX_FOLLOW_POLLS = 24 * 60  # a day of reads, a minute apart, before a job is given up
OPERATION_POLL_SECONDS = 20.0
MAX_OPERATION_POLLS = 30
BUSY_WAIT_SECONDS = 600.0
MAX_BUSY_WAITS = 12
ADOPT_WAIT_SECONDS = 60.0
NO_BACKUP_RUNNING = "no-backup-in-progress"


def confirm_backup_failure(ctx: RunContext) -> StepResult:
    """The VM exists under its name, the vault protects it, and its backups fail that way."""
    verify.require_vm(ctx)
    verify.require_protected(ctx)
    verdict = verify.backup_failure(ctx)
    if not verdict.confirmed:
        return StepResult.unconfirmed(verdict.note)
    return StepResult.next(verdict.note)


def no_backup_running(ctx: RunContext) -> StepResult:
    """The catalogue's precondition: no backup job of the VM is in progress (waited out)."""
    running = ctx.arm.list_backup_jobs(
        verify.target_vault_id(ctx), verify.target_vm_id(ctx), "InProgress"
    )
    if not running:
        return StepResult.next("no backup job in progress")
    return _busy(ctx, f"backup job {running[0].get('name')} is in progress")


def _busy(ctx: RunContext, note: str) -> StepResult:
    waits = ctx.state.get("busy_waits", 0)
    if waits >= MAX_BUSY_WAITS:
        raise StepFailed(
            f"{note} and has been for over {MAX_BUSY_WAITS * BUSY_WAIT_SECONDS / 3600:g} h"
        )
    ctx.state["busy_waits"] = waits + 1
    return StepResult.wait(BUSY_WAIT_SECONDS, f"{note}: waiting for it to end")


def _never_tolerated(ctx: RunContext, job: dict) -> bool:
    return False


def _never_skipped(ctx: RunContext) -> str | None:
    return None


@dataclass(frozen=True)
class BackupRound:
    """Trigger, find the job, follow it. `tolerated(ctx, job)` accepts a failed job as an
    expected outcome (cleanup's first backup); `skip(ctx)` gives a reason to skip the round.
    The steps are methods, not closures, so each call runs the code as it is now."""

    suffix: str = ""
    tolerated: Callable[[RunContext, dict], bool] = _never_tolerated
    skip: Callable[[RunContext], str | None] = _never_skipped

    @property
    def operation_key(self) -> str:
        return f"backup_operation{self.suffix}"

    @property
    def job_key(self) -> str:
        return f"backup_job{self.suffix}"

    def trigger(self, ctx: RunContext) -> StepResult:
        reason = self.skip(ctx)
        if reason:
            return StepResult.next(reason)
        if ctx.state.get(self.operation_key) or ctx.state.get(self.job_key):
            return StepResult.next("backup already triggered")
        vault_id, vm_id = verify.target_vault_id(ctx), verify.target_vm_id(ctx)
        adopt_key, sent_key = f"adopt_since{self.suffix}", f"backup_sent{self.suffix}"
        since = ctx.sent_before(sent_key) or ctx.state.get(adopt_key)
        if since:  # an earlier trigger may have reached Azure unanswered: find its job
            followed = ctx.state.get("jobs_followed") or []
            started = [j for j in ctx.arm.list_backup_jobs(vault_id, vm_id)
                       if _started_since(j, since) and j["name"] not in followed]  # fmt: skip
            if started:
                _follow(ctx, self.job_key, started[0]["name"])
                return StepResult.next(f"resumed following backup job {started[0]['name']}")
            if not ctx.state.get(adopt_key):
                ctx.state[adopt_key] = since  # the job may take a moment to show
                return StepResult.wait(
                    ADOPT_WAIT_SECONDS, "looking for a backup an earlier attempt may have started"
                )
        ctx.sending(sent_key)
        try:
            operation = ctx.arm.trigger_backup(vm_id, vault_id)
        except HttpResponseError as exc:
            if getattr(exc.error, "code", None) != "UserErrorBackupOperationInProgress":
                raise
            del ctx.state[sent_key]  # answered: this trigger started nothing
            running = ctx.arm.list_backup_jobs(vault_id, vm_id, "InProgress")
            name = running[0]["name"] if running else "starting"
            return _busy(ctx, f"another backup of the VM is running (job {name})")
        if not operation:
            raise StepFailed("Azure Backup accepted the backup but named no operation to follow")
        ctx.state[self.operation_key] = operation
        return StepResult.next(f"on-demand backup requested (operation {operation})")

    def find_job(self, ctx: RunContext) -> StepResult:
        if ctx.state.get(self.job_key) or self.skip(ctx):
            return StepResult.next("")
        operation = ctx.state[self.operation_key]
        status = verify.read(
            lambda: ctx.arm.get_backup_operation(
                verify.target_vault_id(ctx), verify.target_vm_id(ctx), operation
            ),
            f"the backup operation {operation} vanished from Azure Backup",
        )
        job = (status.get("properties") or {}).get("jobId")
        if status.get("status") == "Succeeded" and job:
            _follow(ctx, self.job_key, job)
            return StepResult.next(f"backup job {job} started")
        if status.get("status") in {"Failed", "Canceled", "Invalid"}:
            error = status.get("error") or {}
            raise StepFailed(
                f"the backup request {status.get('status')}: {error.get('message') or ''}"
            )
        polls_key = f"operation_polls{self.suffix}"
        polls = ctx.state.get(polls_key, 0) + 1
        if polls > MAX_OPERATION_POLLS:
            raise StepFailed(f"the backup operation {operation} never named its job")
        ctx.state[polls_key] = polls
        return StepResult.wait(OPERATION_POLL_SECONDS, "waiting for Azure Backup to create the job")

    def follow(self, ctx: RunContext) -> StepResult:
        if self.skip(ctx):
            return StepResult.next("")
        name = ctx.state[self.job_key]
        job = verify.read(
            lambda: ctx.arm.get_backup_job(verify.target_vault_id(ctx), name),
            f"backup job {name} vanished from Azure Backup",
        )
        status = (job.get("properties") or {}).get("status")
        ctx.state[f"{self.job_key}_status"] = status
        if status in verify.RUNNING_JOB or status is None:
            return follow_again(ctx, f"{self.job_key}_polls", MAX_FOLLOW_POLLS, POLL_SECONDS,
                                f"backup job {name}", status or "starting")  # fmt: skip
        if status in verify.COMPLETED_JOB:
            return StepResult.next(f"backup job {name} {status}")
        revealed = sorted(e for e in ctx.entries_of(job) if e != ctx.target.get("entry_id"))
        if revealed:  # a retry that hit another catalogued error: the card links its fix
            ctx.state["revealed_entry"] = revealed[0]
        if self.tolerated(ctx, job):
            return StepResult.next(
                f"backup job {name} {status}, as expected: {verify.job_error(job)}"
            )
        raise StepFailed(f"backup job {name} ended {status}: {verify.job_error(job)}")


def backup_round(
    suffix: str = "",
    *,
    tolerated: Callable[[RunContext, dict], bool] = _never_tolerated,
    skip: Callable[[RunContext], str | None] = _never_skipped,
) -> tuple[Step, ...]:  # pragma: no mutate block (runs at import: its steps are checked instead)
    """The three steps of a backup round (see BackupRound)."""
    r = BackupRound(suffix, tolerated, skip)
    return (
        Step(
            f"trigger-backup{suffix}", r.trigger, writes=True, plans="trigger an on-demand backup"
        ),
        Step(f"find-backup-job{suffix}", r.find_job),
        Step(f"follow-backup{suffix}", r.follow),
    )


def _follow(ctx: RunContext, job_key: str, job: str) -> None:
    """Record the job a round follows; a later round never adopts it as its own."""
    ctx.state[job_key] = job
    ctx.state["jobs_followed"] = [*(ctx.state.get("jobs_followed") or []), job]


def _started_since(job: dict, moment: str) -> bool:
    return started_since((job.get("properties") or {}).get("startTime"), moment)


CONFIRM_BACKUP = Step("confirm-failure", confirm_backup_failure, confirms=True)
NO_BACKUP_STEP = Step("no-backup-running", no_backup_running, checks=(NO_BACKUP_RUNNING,))
BACKUP_STEPS = (NO_BACKUP_STEP, *backup_round())
