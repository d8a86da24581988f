"""ARM operations as the audit and the poller depend on them, against the simulator: every
write leaves one audit line with its result and Azure's request id, a failed write says why,
lock ids are parsed to their own scope or refused, locks are read with their level and owners,
and the poller's job filter selects the window it names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError

from devtools.replay import estate_for
from devtools.simulator import ArmSimulator
from remediation.audit import AuditLog
from remediation.azure.operations import Arm, ArmCallError, lock_scope
from remediation.store import SqliteStore
from tests.engine.signals import rp_limit_alert
from tests.simulator_fixtures import clients_for

LOCKS = "/providers/Microsoft.Authorization/locks/"


@pytest.fixture
def world():
    estate = estate_for([rp_limit_alert("erp-app-03")])
    with ArmSimulator(estate) as simulator:
        clients = clients_for(simulator)
        audit = AuditLog(SqliteStore(":memory:"))
        yield Arm(clients, audit, "user:alice"), audit, simulator
        clients.close()


def _group_lock(simulator) -> dict:
    (lock,) = simulator.estate.to_state()["locks"]
    return lock


def test_a_write_is_audited_once_with_its_result_and_request_id(world):
    arm, audit, simulator = world
    lock = _group_lock(simulator)
    arm.delete_lock(lock["id"])
    (entry,) = audit.entries()
    assert (entry["actor"], entry["action"], entry["target"], entry["result"]) == (
        "user:alice", "Microsoft.Authorization/locks/delete", lock["id"], "ok",
    )  # fmt: skip
    assert entry["request_id"] and entry["error"] is None
    assert simulator.estate.to_state()["locks"] == []


def test_a_failed_write_is_audited_with_what_went_wrong(world):
    arm, audit, simulator = world
    simulator.faults.error("locks.delete", 403, code="AuthorizationFailed",
                           message="no right to delete locks", times=1)  # fmt: skip
    lock = _group_lock(simulator)
    with pytest.raises(HttpResponseError):
        arm.delete_lock(lock["id"])
    (entry,) = audit.entries()
    assert entry["result"] == "error: HttpResponseError"
    assert "no right to delete locks" in entry["error"]
    assert entry["request_id"]


def test_reads_are_not_audited(world):
    arm, audit, simulator = world
    arm.list_locks(_group_lock(simulator)["scope"].rsplit("/", 1)[-1])
    assert audit.entries() == []


def test_locks_are_read_with_their_scope_level_notes_and_owners(world):
    arm, _, simulator = world
    lock = _group_lock(simulator)
    group = lock["scope"].rsplit("/", 1)[-1]
    arm.put_lock(lock["id"], {**lock, "owners": ["app-2", "app-1"]})
    (read,) = arm.list_locks(group)
    assert (read["id"].lower(), read["level"], read["notes"], read["owners"]) == (
        lock["id"].lower(), "CanNotDelete", lock["notes"], ["app-1", "app-2"],
    )  # fmt: skip
    assert read["scope"].lower() == lock["scope"].lower()


@pytest.mark.parametrize(
    ("lock_id", "scope", "name"),
    [
        ("/subscriptions/s/resourceGroups/rg" + LOCKS + "keep",
         "/subscriptions/s/resourceGroups/rg", "keep"),
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c"
         + LOCKS + "rpc-lock",
         "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c",
         "rpc-lock"),
    ],
)  # fmt: skip
def test_a_lock_id_is_split_at_its_own_scope(lock_id, scope, name):
    assert lock_scope(lock_id) == (scope, name)


@pytest.mark.parametrize(
    "lock_id",
    [
        "/subscriptions/s/resourceGroups/rg",
        LOCKS + "keep",
        "/subscriptions/s/resourceGroups/rg" + LOCKS,
        "/subscriptions/s/resourceGroups/rg" + LOCKS + "keep/extra",
    ],
)
def test_what_is_not_a_lock_id_is_refused_in_words(lock_id):
    with pytest.raises(ArmCallError) as refused:
        lock_scope(lock_id)
    assert str(refused.value) == f"not a management lock id: {lock_id!r}"


def test_the_pollers_filter_selects_failed_jobs_of_its_window(world):
    arm, _, simulator = world
    (job,) = simulator.estate.backup_jobs.values()
    vault_id = job.vault.id
    started = job.started
    found = arm.list_failed_backup_jobs(vault_id, started - timedelta(minutes=1),
                                        started + timedelta(minutes=1))  # fmt: skip
    assert [j["name"] for j in found] == [job.name]
    later = arm.list_failed_backup_jobs(vault_id, started + timedelta(hours=1),
                                        started + timedelta(hours=2))  # fmt: skip
    assert later == []
