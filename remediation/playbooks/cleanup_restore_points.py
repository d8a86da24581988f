"""cleanup-restore-points: free a full restore point collection behind a resource lock.

Order matters for safety: the locks are recorded (and that record persisted) before any is
removed, and `restore-locks` runs after success and failure alike, comparing what is there
with the record, so a lock always comes back exactly as it was, even after a crash.
"""

from __future__ import annotations

from remediation.playbooks.backup_steps import BACKUP_STEPS
from remediation.playbooks.base import Playbook, RunContext, Step, StepFailed, StepResult

BACKUP_GROUP_PREFIX = "azurebackuprg_"
# Collection deletes often fail once or twice before they succeed (a known CRP timeout).
CONFLICT_RETRY = {"attempts": 3, "initial_wait": 2.0, "max_wait": 30.0}


def find_collections(ctx: RunContext) -> StepResult:
    vm_id = ctx.target["resource_id"].lower()
    prefix = (ctx.target.get("backup_group_prefix") or BACKUP_GROUP_PREFIX).lower()
    collections, groups = [], []
    for group in ctx.arm.list_resource_groups():
        if not group["name"].lower().startswith(prefix):
            continue
        for rpc in ctx.arm.list_restore_point_collections(group["name"]):
            source = ((rpc.get("properties") or {}).get("source") or {}).get("id") or ""
            if source.lower() == vm_id:
                collections.append(rpc["id"])
                if group["name"] not in groups:
                    groups.append(group["name"])
    if not collections:
        return StepResult.done("no restore point collection of this VM was found")
    ctx.state.update(collections=collections, groups=groups)
    return StepResult.next(f"{len(collections)} collection(s) in {', '.join(groups)}")


LEASE_WAIT_SECONDS = 60.0


def _lease(group: str) -> str:
    return f"backup-group-locks:{group.lower()}"


def record_locks(ctx: RunContext) -> StepResult:
    """Hold the groups (one cleanup per group at a time), then persist every lock on them
    before anything is removed; never re-record."""
    for group in ctx.state["groups"]:
        holder = ctx.leases.acquire(_lease(group), ctx.run["id"])
        if holder:
            return StepResult.wait(LEASE_WAIT_SECONDS, f"{group} is being cleaned by {holder}")
    if "locks" not in ctx.state:
        ctx.state["locks"] = [
            lock for group in ctx.state["groups"] for lock in ctx.arm.list_locks(group)
        ]
    names = [f"{lock['name']} ({lock['level']})" for lock in ctx.state["locks"]]
    return StepResult.next(f"locks recorded: {', '.join(names) or 'none'}")


def lift_locks(ctx: RunContext) -> StepResult:
    present = _present_locks(ctx)
    for lock in ctx.state["locks"]:
        if lock["id"].lower() in present:
            ctx.arm.delete_lock(lock["id"])
    return StepResult.next(f"lifted {len(ctx.state['locks'])} lock(s)")


def delete_collections(ctx: RunContext) -> StepResult:
    """Long-running delete that often fails once or twice before it succeeds: retried."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from remediation.azure.retry import run_with_conflict_retry

    for collection in ctx.state["collections"]:
        try:
            run_with_conflict_retry(
                lambda c=collection: ctx.arm.delete_restore_point_collection(c), **CONFLICT_RETRY
            )
        except ResourceNotFoundError:
            continue  # already gone: a previous attempt got there
        except HttpResponseError as exc:
            code = getattr(exc.error, "code", None)
            if code == "ScopeLocked":
                raise StepFailed(
                    "the collection is still locked by a lock outside its resource group"
                ) from exc
            raise
    return StepResult.next(f"deleted {len(ctx.state['collections'])} collection(s)")


def restore_locks(ctx: RunContext) -> StepResult:
    """Put back every recorded lock that is missing or changed, then check they all are."""
    recorded = ctx.state.get("locks") or []
    for lock in recorded:
        current = _present_locks(ctx).get(lock["id"].lower())
        if current is None or _essence(current) != _essence(lock):
            ctx.arm.put_lock(lock["id"], lock)
    missing = [lock["name"] for lock in recorded if lock["id"].lower() not in _present_locks(ctx)]
    if missing:
        raise StepFailed(f"locks not restored: {', '.join(missing)}")
    ctx.state["locks_restored"] = len(recorded)
    for group in ctx.state.get("groups") or []:
        ctx.leases.release(_lease(group), ctx.run["id"])
    return StepResult.next(f"restored {len(recorded)} lock(s)")


def _present_locks(ctx: RunContext) -> dict[str, dict]:
    return {
        lock["id"].lower(): lock
        for group in ctx.state.get("groups") or []
        for lock in ctx.arm.list_locks(group)
    }


def _essence(lock: dict) -> tuple:
    return (lock["name"], lock["level"], lock.get("notes") or "", tuple(lock.get("owners") or ()))


PLAYBOOK = Playbook(
    "cleanup-restore-points",
    (
        Step("find-collections", find_collections),
        Step("record-locks", record_locks),
        Step("lift-locks", lift_locks, writes=True),
        Step("delete-collections", delete_collections, writes=True),
        Step("restore-locks", restore_locks, writes=True, always=True),
        *BACKUP_STEPS,
    ),
    "Lift the backup group's locks, delete the VM's full restore point collection, put every "
    "lock back exactly, then take an on-demand backup.",
)
