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


def test_backup_adds_a_restore_point_once_there_is_room():
    estate = Estate.from_resources(backup_vms=["vm-1"], behaviour=Behaviour(backup_job_polls=0))
    item = next(iter(estate.protected_items.values()))
    job = estate.poll_backup_job(estate.trigger_backup(item))
    assert (job.status, job.error_details[0]["errorTitle"]) == (
        "Failed",
        "UserErrorRpCollectionLimitReached",
    )
    assert isinstance(job.error_details[0]["errorCode"], int)
    collection = estate.restore_points_of(item.vm.id)[0]
    collection.restore_points.clear()
    job = estate.poll_backup_job(estate.trigger_backup(item))
    assert job.status == "Completed"
    assert len(collection.restore_points) == 1
    assert len(estate.to_state()["backup_requests"]) == 2


def test_clone_is_independent():
    estate = Estate.demo()
    copy = estate.clone()
    next(iter(copy.locks.values())).level = "ReadOnly"
    assert next(iter(estate.locks.values())).level == "CanNotDelete"


def test_put_lock_rejects_an_unknown_level():
    estate = Estate.demo()
    with pytest.raises(ArmError) as caught:
        estate.put_lock(estate.subscription_id, "rg-backup", "x", "Sometimes", None, [])
    assert (caught.value.status, caught.value.code) == (400, "InvalidLockLevel")
