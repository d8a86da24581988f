"""Restore point watch: after a cleanup put the lock back, the collection fills up again.

Microsoft's page for UserErrorRpCollectionLimitReached says the lock on AzureBackupRG_* is the
cause: while it is there, Azure Backup cannot clean up old restore points. When the approver
chooses to put the lock back, the VM is watched: every poll reads how many restore points it
has, and before the limit is reached again a signal opens a card that says so, so the next
failure is seen coming instead of after backups have stopped.
"""

from __future__ import annotations

from typing import Any, TypedDict

from remediation.azure.api import ArmApi
from remediation.clock import Clock, iso
from remediation.records import Run
from remediation.signals.build import make_signal
from remediation.signals.model import Signal, SourceKind
from remediation.store import Documents, Store

WATCH = "watch"
PARTITION = "restore-points"
LIMIT = 18
WARN_AT = LIMIT - 2  # the cleanup playbook confirms from here on, so the card can act


class Watched(TypedDict):
    """A VM whose restore points are read every poll."""

    vm: str
    resource_id: str
    vault_id: str | None
    subscription_id: str | None
    groups: list[str]  # the AzureBackupRG_* groups holding its collections
    incident_id: str
    since: str


class Watch:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._docs = Documents[Watched](store, WATCH, PARTITION)
        self._clock = clock

    def add(self, run: Run) -> None:
        """Watch the VM a finished cleanup put the lock back for."""
        target, context = run["target"], run["context"]
        vm_id = target["resource_id"] or ""  # a cleanup that succeeded read the VM by it
        self._store.upsert(WATCH, PARTITION, _key(vm_id), Watched(
            vm=run["vm"], resource_id=vm_id,
            vault_id=target.get("vault_id"), subscription_id=target.get("subscription_id"),
            groups=context.get("groups") or [], incident_id=run["incident_id"],
            since=iso(self._clock()),
        ))  # fmt: skip

    def drop(self, resource_id: str) -> None:
        record = self._store.get(WATCH, PARTITION, _key(resource_id))
        if record is not None:
            self._store.delete(WATCH, PARTITION, record.key, etag=record.etag)

    def all(self) -> list[Watched]:
        return self._docs.all()


def check(arm: ArmApi, watched: Watched) -> Signal | None:
    """Read the watched VM's restore points; a signal when they near the limit again."""
    vm_id = watched["resource_id"].lower()
    collections = [
        c["id"]
        for group in watched["groups"]
        for c in arm.list_restore_point_collections(group)
        if _source(c) == vm_id
    ]
    count = sum(_points(arm.get_restore_point_collection(c)) for c in collections)
    if count < WARN_AT:
        return None
    groups = ", ".join(watched["groups"])
    message = (
        f"The Restore Point collection max limit is near: VM {watched['vm']} has {count} of "
        f"{LIMIT} restore points, and the lock put back on {groups} keeps Azure Backup from "
        "cleaning them up (UserErrorRpCollectionLimitReached comes next)."
    )
    return make_signal(
        SourceKind.RESTORE_POINT_WATCH, message, ("UserErrorRpCollectionLimitReached",),
        vm=watched["vm"], resource_id=watched["resource_id"], vault_id=watched["vault_id"],
        source_id=f"watch:{vm_id}:{count}", extra={"restore_points": count},
        scope=f"watch:{vm_id}",  # its own incident and card, not a line on the old one
    )  # fmt: skip


def _source(collection: dict[str, Any]) -> str:
    return str(((collection.get("properties") or {}).get("source") or {}).get("id") or "").lower()


def _points(collection: dict[str, Any]) -> int:
    return len((collection.get("properties") or {}).get("restorePoints") or [])


def _key(resource_id: str) -> str:
    return resource_id.strip("/").replace("/", "|").lower()
