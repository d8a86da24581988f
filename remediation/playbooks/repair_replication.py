"""repair-replication: resync an agentless VMware migration item, follow the job the resync
started, and read the item's health back until Azure shows it Normal."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError

from remediation.playbooks import verify
from remediation.playbooks.base import (
    Playbook,
    RunContext,
    Step,
    StepFailed,
    StepResult,
    follow_again,
    started_since,
)
from remediation.signals.arm_id import ArmId

POLL_SECONDS = 60.0
MAX_JOB_WAITS = 30
MAX_FOLLOW_POLLS = 24 * 60  # a day of reads, a minute apart, before a resync is given up
HEALTH_POLL_SECONDS = 300.0
MAX_HEALTH_WAITS = 6
RESYNC_ALLOWED = "resync-allowed"
SENT = "resync_sent"
FINISHED = {"Succeeded": True, "Failed": False, "Cancelled": False, "Suspended": False}


def _item_id(ctx: RunContext) -> tuple[str, ArmId]:
    """The target's migration item id, and its parts."""
    item_id = ctx.target.get("resource_id") or ""
    parsed = ArmId.parse(item_id)
    if parsed is None or not parsed.get("replicationMigrationItems"):
        raise StepFailed(f"The signal for {ctx.target.get('vm')} named no migration item.")
    return item_id, parsed


def _item(ctx: RunContext) -> dict[str, Any]:
    item_id, parsed = _item_id(ctx)
    return verify.read(
        lambda: ctx.arm.get_migration_item(item_id),
        f"Migration item of {ctx.target.get('vm')} was not found in vault {parsed.get('vaults')} "
        f"({verify.where(item_id)}): nothing was changed.",
    )


def _props(item: dict[str, Any]) -> dict[str, Any]:
    return item.get("properties") or {}


def confirm_failure(ctx: RunContext) -> StepResult:
    """The item is the machine the card names, and it is unhealthy with the card's error."""
    item = _item(ctx)
    machine, name = str(_props(item).get("machineName") or ""), ctx.target.get("vm") or ""
    if machine.lower() != name.lower():
        raise StepFailed(
            f"The signal names {name}, but its migration item replicates "
            f"{machine or 'no named machine'}: nothing was changed."
        )
    health = _props(item).get("health")
    if health == "Normal" and not _props(item).get("healthErrors"):
        return StepResult.unconfirmed(f"Replication of {name} is healthy (health Normal).")
    if ctx.target.get("entry_id") not in ctx.entries_of(item):
        return StepResult.unconfirmed(
            f"Replication of {name} is {health}, but not with the error this card is about."
        )
    ctx.state["health_before"] = health
    return StepResult.next(f"Azure confirms: replication of {name} is {health}.")


def check_resync_allowed(ctx: RunContext) -> StepResult:
    """The catalogue's precondition: allowedOperations holds StartResync; a job already
    running (a replication cycle) is waited out first."""
    props = _props(_item(ctx))
    if "StartResync" in (props.get("allowedOperations") or []):
        return StepResult.next("Azure allows a resync now")
    current = (props.get("currentJob") or {}).get("jobName")
    waits = ctx.state.get("resync_waits", 0)
    if current and waits < MAX_JOB_WAITS:
        ctx.state["resync_waits"] = waits + 1
        return StepResult.wait(POLL_SECONDS, f"job {current} is running; a resync must wait")
    allowed = ", ".join(props.get("allowedOperations") or []) or "none"
    raise StepFailed(f"Azure does not allow a resync of this item now (allowed: {allowed})")


def start_resync(ctx: RunContext) -> StepResult:
    """POST resync once. An earlier POST may have reached Azure unanswered (its worker died,
    or the answer was lost on the way back; azure-core then posts again by itself after a
    gateway's 5xx, and Azure refuses a second resync while the first runs): the item's
    current job, started since, is that resync, and it is followed instead."""
    since = ctx.sent_before(SENT)
    adopted = _adopt_resync(ctx, since) if since else None
    if adopted:
        return adopted
    ctx.sending(SENT)
    try:
        job = ctx.arm.resync(_item_id(ctx)[0])
    except HttpResponseError:
        adopted = _adopt_resync(ctx, ctx.state[SENT])
        if adopted:
            return adopted
        raise
    if not job:
        raise StepFailed("Site Recovery accepted the resync but named no job to follow")
    ctx.state["job"] = job
    return StepResult.next(f"resync started (job {job})")


def _adopt_resync(ctx: RunContext, since: str) -> StepResult | None:
    current = _props(_item(ctx)).get("currentJob") or {}
    name = current.get("jobName")
    if not name or not started_since(current.get("startTime"), since):
        return None
    ctx.state["job"] = name
    return StepResult.next(f"resumed following resync job {name}")


def follow_job(ctx: RunContext) -> StepResult:
    job = ctx.state["job"]
    vault_id = _item_id(ctx)[1].vault_id or ""  # a migration item's id names its vault
    found = verify.read(
        lambda: ctx.arm.get_replication_job(vault_id, job),
        f"replication job {job} vanished from the vault",
    )
    props = _props(found)
    state = props.get("state")
    if state not in FINISHED:
        return follow_again(ctx, "job_polls", MAX_FOLLOW_POLLS, POLL_SECONDS,
                            f"resync job {job}", str(state))  # fmt: skip
    if not FINISHED[state]:
        errors = props.get("errors") or [{}]
        detail = (errors[0].get("serviceErrorDetails") or {}).get("message") or ""
        raise StepFailed(f"replication job {job} ended {state}{': ' + detail if detail else ''}")
    return StepResult.next(f"resync job {job} succeeded")


def confirm_healthy(ctx: RunContext) -> StepResult:
    """Success is read back: the item's health is Normal again."""
    props = _props(_item(ctx))
    if props.get("health") == "Normal":
        return StepResult.next(f"replication of {ctx.target.get('vm')} is healthy again")
    waits = ctx.state.get("health_waits", 0)
    if waits < MAX_HEALTH_WAITS:
        ctx.state["health_waits"] = waits + 1
        return StepResult.wait(HEALTH_POLL_SECONDS, f"health is {props.get('health')}; rechecking")
    errors = props.get("healthErrors") or [{}]
    raise StepFailed(
        f"the resync succeeded but replication is still {props.get('health')}: "
        f"{errors[0].get('errorMessage') or errors[0].get('summaryMessage') or 'no detail'}"
    )


PLAYBOOK = Playbook(
    "repair-replication",
    (
        Step("confirm-failure", confirm_failure, confirms=True),
        Step("check-resync-allowed", check_resync_allowed, checks=(RESYNC_ALLOWED,)),
        Step(
            "start-resync",
            start_resync,
            writes=True,
            plans="resync the migration item (VMwareCbt, CBT not reset)",
        ),
        Step("follow-job", follow_job),
        Step("confirm-healthy", confirm_healthy),
    ),
    "Resync the migration item (VMwareCbt, without resetting CBT), follow the job, and read "
    "the item's health back.",
)
