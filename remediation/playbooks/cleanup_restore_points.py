"""cleanup-restore-points: free a VM's full restore point collection, in Microsoft's order.

For UserErrorRpCollectionLimitReached, Microsoft's troubleshooting page (seed 004) says: remove
the lock from the AzureBackupRG_* group, trigger an on-demand backup, which makes the service
clean up old restore points itself ("expect this first operation to fail"; the cleanup lands
within hours), and delete the collection by hand only if the cleanup did not happen. It also
advises against locking that group at all: the lock is the cause, and putting it back lets the
collection fill up again. So the approver chooses: clean up and put the lock back (the
default: nothing in the customer's governance changes silently), or keep it off.

Safety: every lock that covers the collections (on the group or on a collection) is recorded
with its own scope, and that record persisted, before any is lifted; `restore-locks` runs
after success and failure alike and puts each back exactly, unless the approver chose to keep
it off. One cleanup per backup group at a time (a lease), so two never race on its lock.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from remediation.playbooks import verify
from remediation.playbooks.backup_steps import NO_BACKUP_STEP, backup_round
from remediation.playbooks.base import Playbook, RunContext, Step, StepFailed, StepResult

BACKUP_GROUP_PREFIX = "azurebackuprg_"
LIMIT = 18  # restore points per VM, across its collections (Azure Backup's instant restore)
NEAR = 2  # a collection this close to the limit is confirmed as needing the cleanup
KEEP_LOCK_OFF = "keep-lock-off"
RESTORE_LOCK = "restore-lock"
CHOICES = (RESTORE_LOCK, KEEP_LOCK_OFF)  # the first is the default decision
LOCKS_RECORDED = "locks-recorded-first"
CLEANUP_POLL_SECONDS = 1800.0
MAX_CLEANUP_WAITS = 6  # Microsoft: the cleanup lands "after few hours"
# Collection deletes often fail once or twice before they succeed (a known CRP timeout).
CONFLICT_RETRY = {"attempts": 3, "initial_wait": 2.0, "max_wait": 30.0}
LEASE_WAIT_SECONDS = 60.0


def confirm_vm(ctx: RunContext) -> StepResult:
    verify.require_vm(ctx)
    verify.require_protected(ctx)
    return StepResult.next(f"VM {ctx.target.get('vm')} found, protected by its vault")


def _listed_collections(ctx: RunContext) -> tuple[list[str], list[str]]:
    """The ids of the VM's restore point collections in the AzureBackupRG_* groups, as Azure
    lists them now, and those groups."""
    vm_id = verify.target_vm_id(ctx).lower()
    collections, groups = [], []
    for group in ctx.arm.list_resource_groups():
        if not group["name"].lower().startswith(BACKUP_GROUP_PREFIX):
            continue
        for rpc in ctx.arm.list_restore_point_collections(group["name"]):
            source = ((rpc.get("properties") or {}).get("source") or {}).get("id") or ""
            if source.lower() == vm_id:
                collections.append(rpc["id"])
                if group["name"] not in groups:
                    groups.append(group["name"])
    return collections, groups


def find_collections(ctx: RunContext) -> StepResult:
    collections, groups = _listed_collections(ctx)
    if not collections:
        vm_id = verify.target_vm_id(ctx)
        raise StepFailed(
            f"No restore point collection of VM {ctx.target.get('vm')} was found in the "
            f"{BACKUP_GROUP_PREFIX}* groups of {verify.where(vm_id).split(',')[0]}."
        )
    ctx.state.update(collections=collections, groups=groups)
    return StepResult.next(f"{len(collections)} collection(s) in {', '.join(groups)}")


def restore_points(ctx: RunContext, collections: list[str] | None = None) -> int:
    """The VM's restore points across `collections` (those found first), as Azure has them now."""
    total = 0
    for collection in ctx.state["collections"] if collections is None else collections:
        try:
            found = ctx.arm.get_restore_point_collection(collection)
        except ResourceNotFoundError:
            continue  # deleted: it holds none
        total += len((found.get("properties") or {}).get("restorePoints") or [])
    return total


def confirm_limit(ctx: RunContext) -> StepResult:
    count = restore_points(ctx)
    if count < LIMIT - NEAR:
        return StepResult.unconfirmed(
            f"VM {ctx.target.get('vm')} has {count} of {LIMIT} restore points: nothing to clean up."
        )
    return StepResult.next(f"Azure confirms: {count} of {LIMIT} restore points")


def _lease(group: str) -> str:
    return f"backup-group-locks:{group.lower()}"


def record_locks(ctx: RunContext) -> StepResult:
    """Hold the groups (one cleanup per group at a time), then persist every lock that covers
    the collections, each with its scope, before anything is removed; never re-record."""
    for group in ctx.state["groups"]:
        holder = ctx.leases.acquire(_lease(group), ctx.run["id"], f"the fix of {ctx.run['vm']}")
        if holder:
            return StepResult.wait(LEASE_WAIT_SECONDS, f"{group} is being cleaned by {holder}")
    if "locks" not in ctx.state:
        ctx.state["locks"] = [lock for lock in _covering_locks(ctx).values()]
    names = [
        f"{lock['name']} ({lock['level']}) on {_scope_name(lock)}" for lock in ctx.state["locks"]
    ]
    return StepResult.next(f"locks recorded: {', '.join(names) or 'none'}")


def _covering_locks(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """The locks, by id, on the backup groups or on this VM's collections (a lock on another
    VM's collection in the same group is not ours to touch)."""
    group_ids = {c.lower().split("/providers/")[0] for c in ctx.state["collections"]}
    scopes = group_ids | {c.lower() for c in ctx.state["collections"]}
    return {
        lock["id"].lower(): lock
        for group in ctx.state["groups"]
        for lock in ctx.arm.list_locks(group)
        if lock["scope"].lower() in scopes
    }


def _scope_name(lock: dict[str, Any]) -> str:
    """The last segment of the lock's scope (as lock_scope reads it: no trailing slash)."""
    return lock["scope"].rsplit("/", 1)[-1]


def lift_locks(ctx: RunContext) -> StepResult:
    present = _covering_locks(ctx)
    for lock in ctx.state["locks"]:
        if lock["id"].lower() in present:
            ctx.arm.delete_lock(lock["id"])
    return StepResult.next(f"lifted {len(ctx.state['locks'])} lock(s)")


def _first_backup_done(ctx: RunContext) -> str | None:
    if ctx.state.get("backup_job_status") in verify.COMPLETED_JOB:
        return "not needed: the first backup completed"
    return None


def _limit_reached(ctx: RunContext, job: dict[str, Any]) -> bool:
    """The first backup failing on the full collection is what Microsoft says to expect."""
    return ctx.target.get("entry_id") in ctx.entries_of(job)


def await_cleanup(ctx: RunContext) -> StepResult:
    """Give Azure Backup's own cleanup its hours; then say whether it happened."""
    done = _first_backup_done(ctx)
    if done:
        return StepResult.next(done)
    count = restore_points(ctx)
    if count < LIMIT:
        return StepResult.next(f"Azure Backup cleaned up: {count} of {LIMIT} restore points")
    waits = ctx.state.get("cleanup_waits", 0)
    if waits < MAX_CLEANUP_WAITS:
        ctx.state["cleanup_waits"] = waits + 1
        return StepResult.wait(
            CLEANUP_POLL_SECONDS, f"waiting for Azure Backup's cleanup ({count} of {LIMIT})"
        )
    ctx.state["still_full"] = True
    return StepResult.next(
        f"no cleanup after {waits * CLEANUP_POLL_SECONDS / 3600:g} h: deleting by hand"
    )


def delete_collections(ctx: RunContext) -> StepResult:
    """Only when Azure's cleanup did not happen; long-running, often fails once or twice."""
    from remediation.azure.retry import run_with_conflict_retry

    if not ctx.state.get("still_full"):
        done = _first_backup_done(ctx)
        return StepResult.next(done or "not needed: Azure cleaned the collection up")
    for collection in ctx.state["collections"]:
        try:
            run_with_conflict_retry(
                partial(ctx.arm.delete_restore_point_collection, collection), **CONFLICT_RETRY
            )
        except ResourceNotFoundError:
            continue  # already gone: a previous attempt got there
        except HttpResponseError as exc:
            if getattr(exc.error, "code", None) == "ScopeLocked":
                raise StepFailed(_still_locked(ctx)) from exc
            raise
    ctx.state["deleted"] = True
    return StepResult.next(f"deleted {len(ctx.state['collections'])} collection(s)")


def _still_locked(ctx: RunContext) -> str:
    """Why a delete was refused as locked: a lock this fix lifted (or a new one) is back on the
    groups or collections, or a lock above them (subscription, management group) holds."""
    back = [f"{lock['name']} ({lock['level']}) on {_scope_name(lock)}"
            for lock in _covering_locks(ctx).values()]  # fmt: skip
    if back:
        return f"the collection is locked again: {', '.join(back)} was put back while the fix ran"
    return "the collection is still locked by a lock above its resource group"


def confirm_cleaned(ctx: RunContext) -> StepResult:
    """Success is read back: the VM's restore points are below the limit, in the collections
    Azure lists now (after a delete by hand, the next backup starts a new one)."""
    count = restore_points(ctx, _listed_collections(ctx)[0])
    if count >= LIMIT:
        raise StepFailed(f"VM {ctx.target.get('vm')} still has {count} of {LIMIT} restore points")
    return StepResult.next(f"{count} of {LIMIT} restore points now")


def restore_locks(ctx: RunContext) -> StepResult:
    """Put back every recorded lock that is missing or changed, at its own scope, then check
    they all are; or, when the approver chose so, leave them off and say so."""
    recorded = ctx.state.get("locks") or []
    if not recorded:
        _release(ctx)
        return StepResult.next("no lock was lifted")
    if ctx.choice == KEEP_LOCK_OFF:
        ctx.state["locks_left_off"] = [lock["name"] for lock in recorded]
        _release(ctx)
        return StepResult.next(f"left {len(recorded)} lock(s) off, as the approver chose")
    gone = [lock for lock in recorded if _scope_deleted(ctx, lock)]
    kept = [lock for lock in recorded if lock not in gone]
    for lock in kept:
        current = _covering_locks(ctx).get(lock["id"].lower())
        if current is None or _essence(current) != _essence(lock):
            ctx.arm.put_lock(lock["id"], lock)
    present = _covering_locks(ctx)
    missing = [lock["name"] for lock in kept if lock["id"].lower() not in present]
    if missing:
        raise StepFailed(f"locks not restored: {', '.join(missing)}")
    ctx.state["locks_restored"] = len(kept)
    _release(ctx)
    if gone:  # Azure deletes a resource's locks with it: said, never silently dropped
        ctx.state["locks_gone"] = [lock["name"] for lock in gone]
        return StepResult.next(
            f"restored {len(kept)} lock(s); {', '.join(ctx.state['locks_gone'])} was on the "
            "deleted collection and went with it: put it on the new collection if still wanted"
        )
    return StepResult.next(f"restored {len(kept)} lock(s)")


def _scope_deleted(ctx: RunContext, lock: dict[str, Any]) -> bool:
    """True for a lock on one of the collections this run deleted."""
    scope = lock["scope"].lower()
    deleted = {c.lower() for c in ctx.state["collections"]} if ctx.state.get("deleted") else set()
    return scope in deleted


def _release(ctx: RunContext) -> None:
    for group in ctx.state.get("groups") or []:
        ctx.leases.release(_lease(group), ctx.run["id"])


def _essence(lock: dict[str, Any]) -> tuple:
    return (lock["scope"].lower(), lock["name"], lock["level"], lock.get("notes") or "",
            tuple(lock.get("owners") or ()))  # fmt: skip


PLAYBOOK = Playbook(
    "cleanup-restore-points",
    (
        Step("confirm-vm", confirm_vm),
        Step("find-collections", find_collections),
        Step("confirm-limit", confirm_limit, confirms=True),
        NO_BACKUP_STEP,
        Step("record-locks", record_locks, checks=(LOCKS_RECORDED,)),
        Step("lift-locks", lift_locks, writes=True, plans="lift the lock(s) on the backup group"),
        *backup_round(tolerated=_limit_reached),
        Step("await-cleanup", await_cleanup),
        Step(
            "delete-collections",
            delete_collections,
            writes=True,
            plans="delete the collection, only if Azure Backup did not clean it up",
        ),
        *backup_round("-again", skip=_first_backup_done),
        Step("confirm-cleaned", confirm_cleaned),
        Step(
            "restore-locks",
            restore_locks,
            writes=True,
            always=True,
            plans="put the lock(s) back exactly (unless you keep them off)",
        ),
    ),
    "Lift the backup group's lock, take an on-demand backup so Azure Backup cleans up old "
    "restore points (deleting the collection only if it does not), back up again, then put the "
    "lock back exactly unless the approver keeps it off.",
    metadata={"choices": CHOICES},
)
