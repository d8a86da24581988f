"""Leases on shared resources (one cleanup per backup group's lock at a time): held by one run,
taken over only from a run that has finished, released only by their holder, and correct when
another worker moves between the reads and the write."""

from __future__ import annotations

from remediation.leases import LEASES, PARTITION, Leases
from remediation.store import SqliteStore

LOCK = "backup-group-locks:azurebackuprg_westeurope_1"


class Racing(SqliteStore):
    """A store where another worker acts once, right before this worker's next `op`."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.before: dict[str, object] = {}

    def _race(self, op: str) -> None:
        action = self.before.pop(op, None)
        if action:
            action()

    def get(self, table, partition, key):
        self._race("get")
        return super().get(table, partition, key)

    def replace(self, table, partition, key, data, *, etag=None):
        self._race("replace")
        return super().replace(table, partition, key, data, etag=etag)


def _holder(store) -> str | None:
    record = store.get(LEASES, PARTITION, LOCK)
    return record.data["owner"] if record else None


def _leases(store, finished=()):
    return Leases(store, lambda run_id: run_id in finished)


def test_a_lease_is_held_by_one_run_until_it_releases_it():
    store = SqliteStore(":memory:")
    leases = _leases(store)
    assert leases.acquire(LOCK, "run-a") is None
    assert leases.acquire(LOCK, "run-a") is None, "its holder may ask again"
    assert leases.acquire(LOCK, "run-b") == "run-a"
    leases.release(LOCK, "run-b")  # not the holder: nothing happens
    assert _holder(store) == "run-a"
    leases.release(LOCK, "run-a")
    assert _holder(store) is None
    assert leases.acquire(LOCK, "run-b") is None and _holder(store) == "run-b"


def test_a_lease_says_whom_it_is_held_for_when_its_holder_said():
    leases = _leases(SqliteStore(":memory:"))
    assert leases.acquire(LOCK, "run-a", "the fix of erp-app-01") is None
    assert leases.acquire(LOCK, "run-b", "the fix of erp-app-02") == "the fix of erp-app-01"
    assert leases.acquire(LOCK, "run-a", "the fix of erp-app-01") is None, "still its own"


def test_the_lease_of_a_finished_run_is_taken_over():
    store = SqliteStore(":memory:")
    _leases(store).acquire(LOCK, "run-a")
    assert _leases(store, finished={"run-a"}).acquire(LOCK, "run-b") is None
    assert _holder(store) == "run-b"
    assert _leases(store, finished={"run-a"}).acquire(LOCK, "run-a") == "run-b"


def test_a_lease_released_between_the_claim_and_the_read_is_claimed_again():
    store = Racing()
    _leases(store).acquire(LOCK, "run-a")
    store.before["get"] = lambda: SqliteStore.delete(store, LEASES, PARTITION, LOCK)
    assert _leases(store).acquire(LOCK, "run-b") is None
    assert _holder(store) == "run-b"


def test_a_takeover_that_loses_the_race_reports_the_winner():
    store = Racing()
    _leases(store).acquire(LOCK, "run-a")
    record = SqliteStore.get(store, LEASES, PARTITION, LOCK)

    def run_c_takes_over():
        SqliteStore.replace(store, LEASES, PARTITION, LOCK, {"owner": "run-c"}, etag=record.etag)

    store.before["replace"] = run_c_takes_over
    assert _leases(store, finished={"run-a"}).acquire(LOCK, "run-b") == "run-c"
    assert _holder(store) == "run-c"
