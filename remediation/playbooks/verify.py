"""Azure as the truth: what the playbooks read before they write and after they have.

A signal is a hint that anyone who can reach a webhook may send, so every fix starts by
reading, for the exact resource, what Azure says: the VM exists and is the one the card
names, the vault protects it, its backups really fail that way, the migration item really is
unhealthy with that error. A target that is missing is a failure a person can act on (said in
one sentence); a failure Azure does not show is `not confirmed`, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from azure.core.exceptions import ResourceNotFoundError

from remediation.azure.operations import is_job_of
from remediation.playbooks.base import RunContext, StepFailed
from remediation.signals.arm_id import ArmId

T = TypeVar("T")
RUNNING_JOB = frozenset({"InProgress", "Cancelling"})
COMPLETED_JOB = frozenset({"Completed", "CompletedWithWarnings"})


def where(resource_id: str | None) -> str:
    """'subscription S, resource group G' for a sentence about a missing resource."""
    parsed = ArmId.parse(resource_id)
    if parsed is None:
        return "an unreadable resource id"
    return f"subscription {parsed.subscription_id}, resource group {parsed.resource_group}"


def read(fetch: Callable[[], T], missing: str) -> T:
    """`fetch()`, or StepFailed(`missing`) when Azure answers 404."""
    try:
        return fetch()
    except ResourceNotFoundError as exc:
        raise StepFailed(missing) from exc


def target_vm_id(ctx: RunContext) -> str:
    vm_id = ctx.target.get("resource_id") or ""
    parsed = ArmId.parse(vm_id)
    if parsed is None or not parsed.get("virtualMachines"):
        raise StepFailed(
            f"The signal for {ctx.target.get('vm')} named no Azure VM resource id, so there is "
            "nothing the bot can safely act on."
        )
    return vm_id


def target_vault(ctx: RunContext) -> ArmId:
    """The target's vault (`require_protected` checks that it is the VM's vault)."""
    parsed = ArmId.parse(ctx.target.get("vault_id") or "")
    if parsed is None or not parsed.get("vaults"):
        raise StepFailed(f"The signal for {ctx.target.get('vm')} named no Recovery Services vault.")
    return parsed


def target_vault_id(ctx: RunContext) -> str:
    return target_vault(ctx).value


def power_state(view: dict[str, Any]) -> str | None:
    """The VM's power state in an instance view ("running", "deallocated", ...), if shown."""
    for status in view.get("statuses") or []:
        code = str(status.get("code"))
        if code.startswith("PowerState/"):
            return code.removeprefix("PowerState/")
    return None


def agent_statuses(view: dict[str, Any]) -> list[str]:
    """What the VM agent reports in an instance view ("Ready", "Not Ready"...), by display
    text, else by code."""
    agent = view.get("vmAgent") or {}
    return [s.get("displayStatus") or s.get("code") or "?" for s in agent.get("statuses") or []]


def agent_version(view: dict[str, Any]) -> str:
    """The VM agent's version in an instance view; "unknown" when absent or null."""
    return str((view.get("vmAgent") or {}).get("vmAgentVersion") or "unknown")


def agent_ready(view: dict[str, Any]) -> bool:
    return any(status.lower() == "ready" for status in agent_statuses(view))


def require_vm(ctx: RunContext) -> dict[str, Any]:
    """The VM the target names, which must exist and carry the name the card shows."""
    vm_id, name = target_vm_id(ctx), ctx.target.get("vm") or ""
    found = read(
        lambda: ctx.arm.get_vm(vm_id),
        f"VM {name} was not found in {where(vm_id)}: nothing was changed.",
    )
    if str(found.get("name", "")).lower() != name.lower():
        raise StepFailed(
            f"The signal names VM {name}, but its resource id points to VM {found.get('name')}: "
            "nothing was changed."
        )
    return found


def require_protected(ctx: RunContext) -> dict[str, Any]:
    """The vault's protected item for the target VM; its source must be that very VM."""
    vm_id, vault = target_vm_id(ctx), target_vault(ctx)
    vault_id = vault.value
    item = read(
        lambda: ctx.arm.get_protected_item(vault_id, vm_id),
        f"VM {ctx.target.get('vm')} is not protected by vault {vault.get('vaults')} "
        f"({where(vault_id)}): nothing was changed.",
    )
    props = item.get("properties") or {}
    source = str(props.get("sourceResourceId") or props.get("virtualMachineId") or "")
    if not source:
        raise StepFailed(
            f"Vault {vault.get('vaults')} protects an item under the name of "
            f"{ctx.target.get('vm')} without naming the resource it backs up: nothing was "
            "changed."
        )
    if source.lower() != vm_id.lower():
        raise StepFailed(
            f"Vault {vault.get('vaults')} protects another resource under the name of "
            f"{ctx.target.get('vm')} ({source}): nothing was changed."
        )
    return item


@dataclass(frozen=True, slots=True)
class Verdict:
    confirmed: bool
    note: str


def backup_failure(ctx: RunContext) -> Verdict:
    """Does the VM's latest finished backup job fail with the incident's error?"""
    vm_id, vault_id, name = target_vm_id(ctx), target_vault_id(ctx), ctx.target.get("vm")
    claimed = _claimed_job(ctx, vault_id, vm_id)
    jobs = ctx.arm.list_backup_jobs(vault_id, vm_id)
    finished = [j for j in jobs if _status(j) not in RUNNING_JOB]
    latest = finished[0] if finished else claimed
    if latest is None:
        return Verdict(False, f"Azure Backup lists no finished backup job of {name}.")
    if _status(latest) in COMPLETED_JOB:
        return Verdict(False, f"The last backup of {name} completed ({_ended(latest)}).")
    if _status(latest) != "Failed":
        ended = _status(latest) or "without a status"
        return Verdict(False, f"The last backup job of {name} ended {ended}.")
    if ctx.target.get("entry_id") not in ctx.entries_of(latest):
        return Verdict(
            False,
            f"The last backup of {name} failed with another error "
            f"({_error_title(latest) or 'unknown'}), not the one this card is about.",
        )
    return Verdict(True, f"Azure confirms: backup of {name} failed ({_error_title(latest)}).")


def _claimed_job(ctx: RunContext, vault_id: str, vm_id: str) -> dict[str, Any] | None:
    """The job the alert named, which must be a job of this very VM."""
    evidence = ctx.target.get("evidence")
    job_id = ((evidence.get("job_id") if evidence else None) or "").rsplit("/", 1)[-1]
    if not job_id:
        return None
    try:
        job = ctx.arm.get_backup_job(vault_id, job_id)
    except ResourceNotFoundError:
        return None
    if not is_job_of(job, vm_id):
        raise StepFailed(
            f"The alert's backup job {job_id} belongs to another VM than "
            f"{ctx.target.get('vm')}: nothing was changed."
        )
    return job


def _status(job: dict[str, Any]) -> str:
    return str((job.get("properties") or {}).get("status") or "")


def _ended(job: dict[str, Any]) -> str:
    return str((job.get("properties") or {}).get("endTime") or "time unknown")


def _error_title(job: dict[str, Any]) -> str:
    errors = (job.get("properties") or {}).get("errorDetails") or [{}]
    return str(errors[0].get("errorTitle") or errors[0].get("errorCode") or "")


def job_error(job: dict[str, Any]) -> str:
    """The first error of a job, for a card: title and message."""
    errors = (job.get("properties") or {}).get("errorDetails") or [{}]
    title, text = errors[0].get("errorTitle") or "", errors[0].get("errorString") or ""
    return f"{title}: {text}".strip(": ") or "no error detail"
