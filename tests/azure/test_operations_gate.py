"""ARM reads and writes where Azure leaves room, against the simulator: a 202 that names its
operation only in Location, a host whose clock is not on UTC, a lock level as text a note can
quote, the request id an audit line keeps (the provider's, else ARM's correlation id), a
failure reason clipped for the audit, ids a call cannot use refused before any request, and a
backup job that does not show whose it is."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError

from devtools.replay import estate_for
from devtools.simulator import ArmSimulator
from remediation.audit import AuditLog
from remediation.azure.operations import Arm, ArmCallError, is_job_of
from remediation.store import SqliteStore
from tests.engine.signals import changed_blocks_error, rp_limit_alert
from tests.simulator_fixtures import clients_for


@pytest.fixture
def world():
    signals = [rp_limit_alert("erp-app-03"), rp_limit_alert("erp-app-04"),
               changed_blocks_error("erp-db-01"), changed_blocks_error("erp-db-02")]  # fmt: skip
    with ArmSimulator(estate_for(signals)) as simulator:
        clients = clients_for(simulator)
        audit = AuditLog(SqliteStore(":memory:"))
        yield Arm(clients, audit, "user:alice"), simulator, signals, audit
        clients.close()


def test_a_backup_trigger_names_its_operation_by_location_when_azure_gives_no_other(world):
    arm, simulator, (first, second, _, _), _ = world
    by_async = arm.trigger_backup(first.resource_id, first.vault_id)
    simulator.estate.behaviour.async_operation_header = False
    by_location = arm.trigger_backup(second.resource_id, second.vault_id)
    names = [op.name for op in simulator.estate.backup_operations.values()]
    assert [by_async, by_location] == names and by_async != by_location


def test_a_resync_whose_answer_names_no_job_returns_none(world):
    arm, simulator, (_, _, first, second), _ = world
    assert arm.resync(first.resource_id)  # Site Recovery names the job it started
    simulator.estate.behaviour.async_operation_header = False
    assert arm.resync(second.resource_id) is None


@pytest.fixture
def host_in_kolkata(monkeypatch):
    """A host clock on UTC+05:30 (TZ / WEBSITE_TIME_ZONE set on the Function App)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_pollers_window_is_in_utc_whatever_the_hosts_zone(world, host_in_kolkata):
    arm, simulator, _, _ = world
    jobs = list(simulator.estate.backup_jobs.values())
    started = jobs[0].started
    found = arm.list_backup_jobs_between(
        jobs[0].vault.id, started - timedelta(minutes=1), started + timedelta(minutes=1)
    )
    assert sorted(j["name"] for j in found) == sorted(j.name for j in jobs)


def test_a_lock_level_is_read_as_the_text_azure_gives(world):
    """The record of a lifted lock is quoted in the run's notes: "CanNotDelete", not the SDK's
    enum name."""
    arm, simulator, _, _ = world
    (lock,) = simulator.estate.to_state()["locks"]
    (read,) = arm.list_locks(lock["scope"].rsplit("/", 1)[-1])
    assert f"{read['level']}" == "CanNotDelete"


def _audited_delete(world) -> tuple[dict, object]:
    arm, simulator, _, audit = world
    lock = simulator.estate.to_state()["locks"][0]
    arm.delete_lock(lock["id"])
    (entry,) = audit.entries()
    (request,) = [r for r in simulator.requests.entries() if r.method == "DELETE"]
    return entry, request


def test_a_write_is_audited_with_the_request_id_azure_gave_it(world):
    entry, request = _audited_delete(world)
    assert request.request_id and entry["request_id"] == request.request_id
    assert sorted(entry) == ["action", "actor", "error", "request_id", "result", "target", "time"]


def test_without_a_provider_request_id_the_audit_keeps_arms_correlation_id(world):
    world[1].estate.behaviour.request_id_header = False
    entry, request = _audited_delete(world)
    assert request.request_id is None
    assert entry["request_id"] == request.correlation_id


def test_a_failed_write_keeps_the_first_300_characters_of_why(world):
    arm, simulator, _, audit = world
    simulator.faults.error("locks.delete", 403, code="AuthorizationFailed",
                           message="no right to delete locks. " * 20, times=1)  # fmt: skip
    lock = simulator.estate.to_state()["locks"][0]
    with pytest.raises(HttpResponseError) as failed:
        arm.delete_lock(lock["id"])
    (entry,) = audit.entries()
    assert entry["result"] == "error: HttpResponseError"
    assert len(str(failed.value)) > 300 and entry["error"] == str(failed.value)[:300]


def test_an_id_the_call_cannot_use_is_refused_in_words_before_any_request(world):
    arm, simulator, (alert, *_), _ = world
    with pytest.raises(ArmCallError) as not_arm:
        arm.get_vm("erp-app-03 (on-premises)")
    assert str(not_arm.value) == "not an ARM resource id: 'erp-app-03 (on-premises)'"
    with pytest.raises(ArmCallError) as not_item:
        arm.get_migration_item(alert.resource_id)
    assert str(not_item.value) == (
        f"{alert.resource_id!r} lacks one of resourceGroups/vaults/replicationFabrics/"
        "replicationProtectionContainers/replicationMigrationItems"
    )
    assert simulator.requests.entries() == []


ITEM_ID = (
    "/subscriptions/s/resourceGroups/rg-erp/providers/Microsoft.RecoveryServices/vaults/v"
    "/replicationFabrics/f/replicationProtectionContainers/c/replicationMigrationItems/app-1"
)


def test_a_job_without_a_name_or_an_id_naming_no_vm_matches_nothing():
    job = {"properties": {"containerName": "iaasvmcontainerv2;rg-erp;app-1"}}
    vm_id = (
        "/subscriptions/s/resourceGroups/rg-erp/providers/Microsoft.Compute/virtualMachines/app-1"
    )
    assert is_job_of(job, vm_id) is False, "no friendly name: not shown to be this VM's"
    named = {"properties": {**job["properties"], "entityFriendlyName": "app-1"}}
    assert is_job_of(named, vm_id) is True
    assert is_job_of(named, ITEM_ID) is False, "a migration item id names no VM"
