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

    def acquire(self, name: str, owner: str) -> str | None:
        """None when `owner` holds the lease now; otherwise the id of the run that holds it."""
        if self._store.claim(LEASES, PARTITION, name, {"owner": owner}):
            return None
        record = self._store.get(LEASES, PARTITION, name)
        if record is None:
            return self.acquire(name, owner)
        holder = record.data["owner"]
        if holder == owner:
            return None
        if not self._is_finished(holder):
            return holder
        try:
            self._store.replace(LEASES, PARTITION, name, {"owner": owner}, etag=record.etag)
        except Conflict:
            return self.acquire(name, owner)
        return None

    def release(self, name: str, owner: str) -> None:
        record = self._store.get(LEASES, PARTITION, name)
        if record is not None and record.data["owner"] == owner:
            self._store.delete(LEASES, PARTITION, name, etag=record.etag)
