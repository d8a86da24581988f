"""The estate model: builders, behaviour without HTTP, and the to_state() contract."""

import json

import pytest

from devtools.simulator import Behaviour, Estate
from devtools.simulator.errors import ArmError

SUB = "11111111-2222-3333-4444-555555555555"
SUB_DEMO = Estate().subscription_id


def test_demo_has_twenty_backup_vms_each_with_a_full_locked_collection():
    estate = Estate.demo()
    assert len(estate.vms) == 20
    assert {"erp-app-01", "erp-db-01", "web-01"} <= {vm.name for vm in estate.vms.values()}
    for vm in estate.vms.values():
        collections = estate.restore_points_of(vm.id)
        assert [len(c.restore_points) for c in collections] == [18]
        assert collections[0].resource_group == "AzureBackupRG_westeurope_1"
    locks = estate.locks_on(estate.subscription_id, "AzureBackupRG_westeurope_1")
    assert [lock.level for lock in locks] == ["CanNotDelete"]
    assert len(estate.vaults) == 3
    assert any(i.health == "Critical" and i.health_errors for i in estate.migration_items.values())


def test_from_resources_creates_everything_the_signals_name():
    vm_id = f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/"
    vm_id += "virtualMachines/app-7"
    item_id = (
        f"/subscriptions/{SUB}/resourceGroups/rg-mig/providers/Microsoft.RecoveryServices/vaults/"
        "mig-vault/replicationFabrics/fab/replicationProtectionContainers/cont/"
        "replicationMigrationItems/item-42"
    )
    estate = Estate.from_resources(
        subscription_id=SUB,
        location="northeurope",
        vms=["plain-vm"],
        backup_vms=[vm_id, ("db-9", "rsv-db")],
        migration_items=[item_id, "vmware-host-3"],
        vaults=["extra-vault"],
    )
    assert {v.name for v in estate.vms.values()} == {"plain-vm", "app-7", "db-9"}
    assert {v.name for v in estate.vaults.values()} == {
        "extra-vault",
        "rsv-backup",
        "rsv-db",
        "mig-vault",
        "rsv-migrate",
    }
    assert item_id.lower() in estate.migration_items
    assert {i.machine_name for i in estate.migration_items.values()} == {"item-42", "vmware-host-3"}
    app7 = estate.vms[vm_id.lower()]
    assert app7.resource_group == "rg-app"
    assert sum(len(c.restore_points) for c in estate.restore_points_of(app7.id)) == 18
    assert (
        estate.restore_points_of(estate.vms[next(k for k in estate.vms if "plain-vm" in k)].id)
        == []
    )
    locks = estate.locks_on(SUB, "AzureBackupRG_northeurope_1")
    assert [(lock.name, lock.level) for lock in locks] == [("protect-backup-rg", "CanNotDelete")]


def test_to_state_is_json_and_has_the_contract_keys():
    estate = Estate.from_resources(backup_vms=["vm-1"], migration_items=["vm-2"])
    state = json.loads(json.dumps(estate.to_state()))
    assert {"locks", "restore_point_collections", "migration_items", "backup_requests"} <= set(
        state
    )
    assert len(state["restore_point_collections"][0]["restore_points"]) == 18
    assert state["locks"][0] | {"id": None} == {
        "id": None,
        "scope": f"/subscriptions/{SUB_DEMO}/resourceGroups/AzureBackupRG_westeurope_1",
        "name": "protect-backup-rg",
        "level": "CanNotDelete",
        "notes": "Azure Backup instant restore snapshots - do not delete",
        "owners": [],
    }
    assert state["migration_items"][0]["machine_name"] == "vm-2"
    assert state["backup_requests"] == []


def _backed_up(estate: Estate, item) -> object:
    """Trigger a backup and let time pass until its job has ended; returns the job."""
    operation = estate.trigger_backup(item)
    assert (operation.status, operation.job) == ("InProgress", None)  # no job yet
    while operation.status == "InProgress":
        estate.poll_backup_operation(operation)
    job = operation.job
    while job.status == "InProgress":
        estate.poll_backup_job(job)
    return job


def test_a_backup_on_a_full_locked_collection_fails_and_nothing_is_cleaned():
    estate = Estate.from_resources(backup_vms=["vm-1"])
    item = next(iter(estate.protected_items.values()))
    job = _backed_up(estate, item)
    assert (job.status, job.error_details[0]["errorTitle"]) == (
        "Failed",
        "UserErrorRpCollectionLimitReached",
    )
    assert isinstance(job.error_details[0]["errorCode"], int)
    (collection,) = estate.restore_points_of(item.vm.id)
    for _ in range(3):
        estate.observe_collection(collection)
    assert len(collection.restore_points) == 18  # the lock stops the service's cleanup


def test_without_the_lock_the_first_backup_fails_then_the_service_cleans_up():
    estate = Estate.from_resources(backup_vms=["vm-1"])
    item = next(iter(estate.protected_items.values()))
    for lock in list(estate.locks.values()):
        estate.delete_lock(lock.id)
    assert _backed_up(estate, item).status == "Failed"  # as Microsoft warns
    (collection,) = estate.restore_points_of(item.vm.id)
    estate.observe_collection(collection)
    assert len(collection.restore_points) == 18  # the cleanup lands a little later
    estate.observe_collection(collection)
    assert len(collection.restore_points) == estate.behaviour.points_kept_by_cleanup
    assert _backed_up(estate, item).status == "Completed"
    assert len(collection.restore_points) == estate.behaviour.points_kept_by_cleanup + 1
    assert [r["job_id"] is not None for r in estate.to_state()["backup_requests"]] == [True, True]


def test_a_cleanup_that_never_comes_leaves_the_collection_full():
    estate = Estate.from_resources(
        backup_vms=["vm-1"], behaviour=Behaviour(auto_cleanup_reads=None)
    )
    item = next(iter(estate.protected_items.values()))
    for lock in list(estate.locks.values()):
        estate.delete_lock(lock.id)
    _backed_up(estate, item)
    (collection,) = estate.restore_points_of(item.vm.id)
    for _ in range(5):
        estate.observe_collection(collection)
    assert len(collection.restore_points) == 18


def test_a_second_trigger_while_one_runs_is_refused_with_409():
    estate = Estate.from_resources(backup_vms=["vm-1"])
    item = next(iter(estate.protected_items.values()))
    estate.trigger_backup(item)
    with pytest.raises(ArmError) as caught:
        estate.trigger_backup(item)
    assert (caught.value.status, caught.value.code) == (409, "UserErrorBackupOperationInProgress")


def test_a_lock_on_the_collection_itself_blocks_its_delete_and_is_listed_with_the_group():
    estate = Estate.from_resources(backup_vms=["vm-1"])
    (collection,) = estate.restore_points_of(next(iter(estate.vms.values())).id)
    for lock in list(estate.locks.values()):
        estate.delete_lock(lock.id)
    estate.put_lock(collection.id, "keep-rpc", "CanNotDelete", None, [])
    with pytest.raises(ArmError) as caught:
        estate.begin_delete_collection(collection)
    assert (caught.value.status, caught.value.code) == (409, "ScopeLocked")
    listed = estate.locks_on(collection.subscription_id, collection.resource_group)
    assert [(lock.scope, lock.name) for lock in listed] == [(collection.id, "keep-rpc")]


def test_a_lock_on_an_unknown_scope_is_refused():
    estate = Estate.demo()
    missing = f"/subscriptions/{estate.subscription_id}/resourceGroups/rg-nowhere"
    with pytest.raises(ArmError) as caught:
        estate.put_lock(missing, "x", "CanNotDelete", None, [])
    assert caught.value.status == 404


def test_clone_is_independent():
    estate = Estate.demo()
    copy = estate.clone()
    next(iter(copy.locks.values())).level = "ReadOnly"
    assert next(iter(estate.locks.values())).level == "CanNotDelete"


def test_put_lock_rejects_an_unknown_level():
    estate = Estate.demo()
    with pytest.raises(ArmError) as caught:
        estate.put_lock(
            f"/subscriptions/{estate.subscription_id}/resourceGroups/rg-backup",
            "x", "Sometimes", None, [],
        )  # fmt: skip
    assert (caught.value.status, caught.value.code) == (400, "InvalidLockLevel")
