"""Ready-made estates: a demo one, and one derived from the resources that signals name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from devtools.simulator.estate import (
    BACKUP_ERROR_NUMBERS,
    DEMO_APPROVER_GROUP,
    DEMO_APPROVER_GROUP_MEMBERS,
    DEMO_SUBSCRIPTION,
    GUEST_AGENT_CODE,
    GUEST_AGENT_MESSAGE,
    Behaviour,
    Estate,
    collection_name,
    fill_restore_points,
)
from devtools.simulator.resources import (
    BackupJob,
    Extension,
    KeyVault,
    Lock,
    MigrationItem,
    PrivateDnsZone,
    PrivateEndpoint,
    RestorePointCollection,
    Vault,
    VirtualMachine,
    VnetLink,
    provider_id,
    stable_guid,
)

BACKUP_LOCK_NAME = "protect-backup-rg"
BACKUP_LOCK_NOTES = "Azure Backup instant restore snapshots - do not delete"
FABRIC = "migrate-vmware-fabric"
CONTAINER = "migrate-vmware-container"
DEFAULT_LOCATION = "westeurope"
BACKUP_SERVICE_OBJECT_ID = "f40e18f0-6544-45c2-9d24-639a8bb3b41a"

ResourceRef = str | tuple[str, str]


@dataclass(frozen=True)
class Failure:
    """What a signal claims about a resource, made true in the estate: its error code(s),
    message and, for Backup, the failed job's name."""

    codes: tuple[str, ...]
    message: str
    job: str | None = None
    vm: str | None = None  # the machine a migration item replicates


DEMO_GROUPS: Mapping[str, Iterable[str]] = {DEMO_APPROVER_GROUP: DEMO_APPROVER_GROUP_MEMBERS}


def _parse(ref: str, default_sub: str, default_rg: str) -> tuple[str, str, str]:
    """(subscription, resource group, name) from an ARM id or a bare name."""
    parts = ref.strip("/").split("/")
    if len(parts) >= 4 and parts[0].lower() == "subscriptions":
        return parts[1], parts[3], parts[-1]
    return default_sub, default_rg, ref


DEMO_FAILURES = {
    "erp-app-03": Failure(
        ("UserErrorRpCollectionLimitReached",),
        "The Restore Point collection max limit has reached.",
        "3f9a2c51-7d0e-4b8a-9c61-2e5d8f4a1b07",
    ),
    "file-02": Failure(
        (GUEST_AGENT_CODE,), GUEST_AGENT_MESSAGE, "b1f2c3d4-0000-4000-8000-00000000f002"
    ),
}


def backup_vm(estate: Estate, vm: VirtualMachine, vault: Vault) -> None:
    """Protect a VM and give it a full instant-restore collection in a locked backup group."""
    estate.protect_vm(vm, vault)
    extension = "VMSnapshot" if vm.os_type == "Windows" else "VMSnapshotLinux"
    vm.extensions.setdefault(extension, Extension(extension, extension))
    group = f"AzureBackupRG_{vm.location}_1"
    rpc = RestorePointCollection(
        vm.subscription_id, group, collection_name(vm.name), vm.location, vm.id
    )
    fill_restore_points(
        rpc, estate.behaviour.max_restore_points, estate.clock(), timedelta(hours=8)
    )
    estate.add_restore_point_collection(rpc)
    if not estate.locks_on(vm.subscription_id, group):
        estate.add_lock(
            Lock.on_group(
                vm.subscription_id, group, BACKUP_LOCK_NAME, "CanNotDelete", BACKUP_LOCK_NOTES
            )
        )


def migration_item(vault: Vault, machine: str) -> MigrationItem:
    return MigrationItem(
        vault, FABRIC, CONTAINER, f"{machine}_{stable_guid(vault.id, machine)}", machine
    )


def add_network_and_key_vault(estate: Estate, vault: Vault, workload_rg: str) -> None:
    """The read-only diagnose checks look at these: endpoint, DNS zone, links, key vault."""
    sub, location = estate.subscription_id, vault.location
    zone_name = f"privatelink.{location}.backup.windowsazure.com"
    estate.add_private_endpoint(
        PrivateEndpoint(
            sub,
            "rg-network",
            f"pe-{vault.name}",
            location,
            vault.id,
            "AzureBackup",
            fqdn=f"{vault.name}.{zone_name}",
        )
    )
    vnet = provider_id(sub, "rg-network", "Microsoft.Network/virtualNetworks/vnet-hub")
    estate.add_dns_zone(
        PrivateDnsZone(
            sub,
            "rg-network",
            zone_name,
            links=[VnetLink("link-vnet-hub", vnet)],
            a_records={vault.name: ["10.10.1.4"]},
        )
    )
    estate.add_key_vault(
        KeyVault(
            sub,
            workload_rg,
            "kv-erp-prod",
            location,
            estate.tenant_id,
            access_policies=[
                {
                    "tenantId": estate.tenant_id,
                    "objectId": BACKUP_SERVICE_OBJECT_ID,
                    "permissions": {"keys": ["Get", "List", "Backup"], "secrets": ["Get", "List"]},
                }
            ],
        )
    )


def demo_estate(*, behaviour: Behaviour | None = None) -> Estate:
    """Three vaults, 20 VMs, migration items for the ERP machines, a few broken things."""
    estate = Estate(DEMO_SUBSCRIPTION, behaviour=behaviour)
    sub, loc = estate.subscription_id, DEFAULT_LOCATION
    migrate = estate.add_vault(Vault(sub, "rg-migration", "rsv-migrate-weu", loc))
    backup = estate.add_vault(Vault(sub, "rg-backup", "rsv-backup-weu", loc))
    estate.add_vault(Vault(sub, "rg-backup", "rsv-backup-neu", "northeurope"))
    groups = {"erp": "rg-erp-prod", "web": "rg-web-prod", "file": "rg-shared", "sql": "rg-shared"}
    fleet = (
        [f"erp-app-{n:02d}" for n in range(1, 6)]
        + [f"erp-db-{n:02d}" for n in range(1, 4)]
        + [f"web-{n:02d}" for n in range(1, 7)]
        + ["file-01", "file-02", "sql-01", "sql-02", "jump-01", "dc-01"]
    )
    for name in fleet:
        linux = name.startswith(("web-", "erp-app"))
        vm = VirtualMachine(
            sub,
            groups.get(name.split("-")[0], "rg-infra"),
            name,
            loc,
            "Linux" if linux else "Windows",
        )
        backup_vm(estate, vm, backup)
    estate.vms[_vm_key(sub, "rg-web-prod", "web-03")].extensions[
        "VMSnapshotLinux"
    ].provisioning_state = "Failed"
    estate.vms[_vm_key(sub, "rg-shared", "file-02")].agent_ready = False
    for name in fleet[:8]:
        estate.add_migration_item(migration_item(migrate, name))
    broken = next(iter(estate.migration_items.values()))
    broken.health, broken.resync_required = "Critical", "true"
    broken.health_errors = [
        {
            "errorCode": "1018",  # Microsoft's id for it (troubleshoot-changed-block-tracking)
            "errorLevel": "Error",
            "summaryMessage": "Replication failed: unable to fetch changed blocks.",
            "errorMessage": "Encountered an error while trying to fetch change blocks",
            "recommendedAction": "Resynchronize the virtual machine.",
            "customerResolvability": "Allowed",
        }
    ]
    add_network_and_key_vault(estate, backup, "rg-erp-prod")
    _add_groups(estate, DEMO_GROUPS)
    for name, failure in DEMO_FAILURES.items():  # what the demo's replayed alerts claim
        failed_backup(estate, next(vm for vm in estate.vms.values() if vm.name == name), failure)
    return estate


def estate_from_resources(
    *,
    vms: Iterable[str] = (),
    backup_vms: Iterable[ResourceRef] = (),
    migration_items: Iterable[ResourceRef] = (),
    vaults: Iterable[str] = (),
    failures: Mapping[str, Failure] | None = None,
    subscription_id: str = DEMO_SUBSCRIPTION,
    location: str = DEFAULT_LOCATION,
    behaviour: Behaviour | None = None,
    groups: Mapping[str, Iterable[str]] = DEMO_GROUPS,
) -> Estate:
    """Every named VM, vault and migration item exists; every Backup VM has a full collection.

    `groups` maps Entra group ids to member object ids (the demo approver group by default).
    Entries are bare names or ARM ids. A `backup_vms` entry may be `(vm, vault)`; a
    `migration_items` entry may be an item id, a machine name, or `(machine, vault)`. Unnamed
    vaults default to `rsv-backup` / `rsv-migrate` in `rg-backup` / `rg-migration`.
    `failures` (keyed by the VM's or item's name or id, case-blind) makes what signals claim
    true: a Backup VM gets a failed job with that error, an item that health error.
    """
    claimed = {k.lower(): v for k, v in (failures or {}).items()}
    estate = Estate(subscription_id, behaviour=behaviour)

    def vault(ref: str | None, default_name: str, default_rg: str) -> Vault:
        sub, group, name = _parse(ref or default_name, subscription_id, default_rg)
        return estate.add_vault(Vault(sub, group, name, location))

    def vm(ref: str) -> VirtualMachine:
        sub, group, name = _parse(ref, subscription_id, "rg-workloads")
        existing = estate.vms.get(_vm_key(sub, group, name))
        return existing or estate.add_vm(VirtualMachine(sub, group, name, location))

    for ref in vaults:
        vault(ref, ref, "rg-backup")
    for ref in vms:
        vm(ref)
    for entry in backup_vms:
        vm_ref, vault_ref = entry if isinstance(entry, tuple) else (entry, None)
        machine = vm(vm_ref)
        backup_vm(estate, machine, vault(vault_ref, "rsv-backup", "rg-backup"))
        failure = claimed.get(machine.id.lower()) or claimed.get(machine.name.lower())
        if failure:
            failed_backup(estate, machine, failure)
    for entry in migration_items:
        machine, vault_ref = entry if isinstance(entry, tuple) else (entry, None)
        parts = machine.strip("/").split("/")
        if len(parts) == 14 and parts[12].lower() == "replicationmigrationitems":
            owner = vault("/" + "/".join(parts[:8]), parts[7], parts[3])
            named = claimed.get(machine.lower())
            item = MigrationItem(
                owner, parts[9], parts[11], parts[13], (named and named.vm) or parts[13]
            )
        else:
            item = migration_item(vault(vault_ref, "rsv-migrate", "rg-migration"), machine)
        failure = claimed.get(item.id.lower()) or claimed.get(item.machine_name.lower())
        item.health = "Critical" if failure else "Warning"
        if failure:
            item.health_errors = [health_error(failure)]
        estate.add_migration_item(item)
    _add_groups(estate, groups)
    return estate


def failed_backup(estate: Estate, vm: VirtualMachine, failure: Failure) -> BackupJob:
    """The VM's last backup job, failed an hour ago with the claimed error."""
    item = next(i for i in estate.protected_items.values() if i.vm is vm)
    now = estate.clock()
    names = [c for c in failure.codes if not c.isdigit()] or [""]
    numbers = [int(c) for c in failure.codes if c.isdigit()] or [
        BACKUP_ERROR_NUMBERS.get(names[0], 0)
    ]
    job = BackupJob(
        item.vault, failure.job or stable_guid(vm.id, "failed-job"), item,
        now - timedelta(hours=1), 0, status="Failed", ended=now - timedelta(minutes=50),
        error_details=[{
            "errorCode": numbers[0],
            "errorTitle": names[0],
            "errorString": failure.message,
            "recommendations": [],
        }],
    )  # fmt: skip
    item.health_status, item.last_backup_status = "ActionRequired", "Failed"
    estate.add_backup_job(job)
    return job


def health_error(failure: Failure) -> dict[str, str]:
    return {
        "errorCode": failure.codes[0] if failure.codes else "Unknown",
        "errorLevel": "Error",
        "summaryMessage": failure.message,
        "errorMessage": failure.message,
        "customerResolvability": "Allowed",
    }


def _add_groups(estate: Estate, groups: Mapping[str, Iterable[str]]) -> None:
    for group_id, members in groups.items():
        estate.add_group(group_id, members)


def _vm_key(sub: str, group: str, name: str) -> str:
    return provider_id(sub, group, f"Microsoft.Compute/virtualMachines/{name}").lower()
