"""Ready-made estates: a demo one, and one derived from the resources that signals name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta

from devtools.simulator.estate import (
    DEMO_APPROVER_GROUP,
    DEMO_APPROVER_GROUP_MEMBERS,
    DEMO_SUBSCRIPTION,
    Behaviour,
    Estate,
    collection_name,
    fill_restore_points,
)
from devtools.simulator.resources import (
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
DEMO_GROUPS: Mapping[str, Iterable[str]] = {DEMO_APPROVER_GROUP: DEMO_APPROVER_GROUP_MEMBERS}


def _parse(ref: str, default_sub: str, default_rg: str) -> tuple[str, str, str]:
    """(subscription, resource group, name) from an ARM id or a bare name."""
    parts = ref.strip("/").split("/")
    if len(parts) >= 4 and parts[0].lower() == "subscriptions":
        return parts[1], parts[3], parts[-1]
    return default_sub, default_rg, ref


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
            "errorCode": "1004",
            "errorLevel": "Error",
            "summaryMessage": "Replication failed: unable to fetch changed blocks.",
            "errorMessage": "Encountered an error while trying to fetch change blocks",
            "recommendedAction": "Resynchronize the virtual machine.",
            "customerResolvability": "Allowed",
        }
    ]
    add_network_and_key_vault(estate, backup, "rg-erp-prod")
    _add_groups(estate, DEMO_GROUPS)
    return estate


def estate_from_resources(
    *,
    vms: Iterable[str] = (),
    backup_vms: Iterable[ResourceRef] = (),
    migration_items: Iterable[ResourceRef] = (),
    vaults: Iterable[str] = (),
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
    """
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
        backup_vm(estate, vm(vm_ref), vault(vault_ref, "rsv-backup", "rg-backup"))
    for entry in migration_items:
        machine, vault_ref = entry if isinstance(entry, tuple) else (entry, None)
        parts = machine.strip("/").split("/")
        if len(parts) == 14 and parts[12].lower() == "replicationmigrationitems":
            owner = vault("/" + "/".join(parts[:8]), parts[7], parts[3])
            item = MigrationItem(owner, parts[9], parts[11], parts[13], parts[13])
        else:
            item = migration_item(vault(vault_ref, "rsv-migrate", "rg-migration"), machine)
        item.health = "Warning"
        estate.add_migration_item(item)
    _add_groups(estate, groups)
    return estate


def _add_groups(estate: Estate, groups: Mapping[str, Iterable[str]]) -> None:
    for group_id, members in groups.items():
        estate.add_group(group_id, members)


def _vm_key(sub: str, group: str, name: str) -> str:
    return provider_id(sub, group, f"Microsoft.Compute/virtualMachines/{name}").lower()
