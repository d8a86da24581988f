"""Leases on shared resources, so two fixes never lift the same lock at once.

Two VMs' cleanups in one AzureBackupRG would otherwise race: the second could record "no
lock" while the first has lifted it, and then never put it back. A lease names its owner run;
a lease whose owner has finished (or vanished) is taken over, so a crash never strands one.
"""

from __future__ import annotations

from collections.abc import Callable

from remediation.store import Conflict, Store

LEASES = "leases"
PARTITION = "lease"


class Leases:
    def __init__(self, store: Store, is_finished: Callable[[str], bool]) -> None:
        self._store = store
        self._is_finished = is_finished

    def acquire(self, name: str, owner: str, label: str = "") -> str | None:
        """None when `owner` holds the lease now; otherwise who holds it: the `label` its
        holder gave (for people: "the fix of VM x"), else its run id."""
        held = {"owner": owner, "label": label}
        if self._store.claim(LEASES, PARTITION, name, held):
            return None
        record = self._store.get(LEASES, PARTITION, name)
        if record is None:
            return self.acquire(name, owner, label)
        holder = record.data["owner"]
        if holder == owner:
            return None
        if not self._is_finished(holder):
            return str(record.data.get("label") or holder)
        try:
            self._store.replace(LEASES, PARTITION, name, held, etag=record.etag)
        except Conflict:
            return self.acquire(name, owner, label)
        return None

    def release(self, name: str, owner: str) -> None:
        record = self._store.get(LEASES, PARTITION, name)
        if record is not None and record.data["owner"] == owner:
            self._store.delete(LEASES, PARTITION, name, etag=record.etag)
