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
from remediation.azure.operations import Arm, ArmCallError, is_job_of, lock_scope
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
    assert (entry["actor"], entry["action"], entry["target"], entry["result"]) == (
        "user:alice", "Microsoft.Authorization/locks/delete", lock["id"],
        "error: HttpResponseError",
    )  # fmt: skip
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


def test_a_lock_on_a_resource_under_a_lock_path_is_split_at_the_last_provider_segment():
    nested = "/subscriptions/s/resourceGroups/rg" + LOCKS + "a" + LOCKS + "b"
    assert lock_scope(nested) == ("/subscriptions/s/resourceGroups/rg" + LOCKS + "a", "b")


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


def test_the_pollers_filter_selects_the_jobs_of_its_window(world):
    arm, _, simulator = world
    (job,) = simulator.estate.backup_jobs.values()
    vault_id = job.vault.id
    started = job.started
    found = arm.list_backup_jobs_between(vault_id, started - timedelta(minutes=1),
                                        started + timedelta(minutes=1))  # fmt: skip
    assert [j["name"] for j in found] == [job.name]
    later = arm.list_backup_jobs_between(vault_id, started + timedelta(hours=1),
                                        started + timedelta(hours=2))  # fmt: skip
    assert later == []


def test_a_vms_backup_jobs_are_found_by_its_name_whatever_its_case(world):
    """What "why did VM X fail" reads: a person names the VM, not its ARM id."""
    arm, _, simulator = world
    (job,) = simulator.estate.backup_jobs.values()
    assert job.item.vm.name == "erp-app-03"
    assert [j["name"] for j in arm.list_backup_jobs_named(job.vault.id, "ERP-App-03")] == [job.name]
    assert arm.list_backup_jobs_named(job.vault.id, "erp-app-0") == []


VM_ID = "/subscriptions/s/resourceGroups/RG-ERP/providers/Microsoft.Compute/virtualMachines/App-1"


@pytest.mark.parametrize(
    ("container", "friendly", "mine"),
    [
        ("iaasvmcontainerv2;rg-erp;app-1", "app-1", True),
        ("IaasVMContainerV2;RG-ERP;APP-1", "App-1", True),
        ("iaasvmcontainerv2;rg-erp;app-1", "app-2", False),
        ("iaasvmcontainerv2;rg-web;app-1", "app-1", False),
        ("", "app-1", False),
    ],
)
def test_a_backup_job_belongs_to_the_vm_its_container_and_name_both_name(container, friendly, mine):
    job = {"properties": {"containerName": container, "entityFriendlyName": friendly}}
    assert is_job_of(job, VM_ID) is mine


def test_a_vm_id_that_is_not_an_arm_id_owns_no_job():
    job = {"properties": {"containerName": "iaasvmcontainerv2;rg;app", "entityFriendlyName": "app"}}
    assert is_job_of(job, "app") is False
