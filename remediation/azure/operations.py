"""Every ARM call the playbooks make, one method each, with the RBAC action it needs.

The `@arm_action` declarations are the source of truth for the least-privilege custom roles:
each names the kind of resource group it acts in (`scope=`), each kind has its own role, and a
test compares them with infra/role-actions.json, so a playbook cannot gain an ARM call, or an
action in a kind of group, that the roles lack. Writes pass the per-subscription write budget
first and are audited with the ARM request id and the result.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

from remediation.audit import AuditLog
from remediation.signals.arm_id import ArmId

if TYPE_CHECKING:
    from remediation.azure.clients import ArmClients

F = TypeVar("F", bound=Callable[..., Any])
RS = "Microsoft.RecoveryServices"
MIGRATION_ITEMS = (
    f"{RS}/vaults/replicationFabrics/replicationProtectionContainers/replicationMigrationItems"
)
PROTECTED_ITEMS = f"{RS}/Vaults/backupFabrics/protectionContainers/protectedItems"
COMPUTE_OPERATIONS = "Microsoft.Compute/locations/operations/read"
PRIVATE_DNS_ZONES = "Microsoft.Network/privateDnsZones"
KEY_VAULT_TYPE = "Microsoft.KeyVault/vaults"
KEY_VAULT_API = "2023-07-01"  # read through the generic resources API: no key vault SDK needed


class GroupKind(StrEnum):
    """Where an ARM call acts; each kind is one custom role in infra/role-actions.json, granted
    on the resource groups of that kind only (main.bicep's *ResourceGroupIds parameters)."""

    RESTORE_POINTS = "restorePointGroups"  # AzureBackupRG_<region>_<n>: collections, their locks
    VMS = "vmGroups"  # the protected and replicated VMs
    VAULTS = "vaultGroups"  # Recovery Services vaults of Azure Backup
    MIGRATE = "migrateGroups"  # the Azure Migrate project and its replication vault
    SUBSCRIPTION = "subscription"  # read-only: subscription-wide lists and the reads after them


@dataclass(frozen=True, slots=True)
class ArmAction:
    method: str
    action: str
    write: bool
    scope: GroupKind | None  # None: undeclared, which the role cross-check refuses
    polls: tuple[str, ...] = ()  # status reads the SDK's poller makes for a long-running call


ACTIONS: dict[str, ArmAction] = {}


class ArmCallError(RuntimeError):
    """An ARM id or response the playbook cannot use; permanent, with a reason."""


def arm_action(
    action: str,
    *,
    scope: GroupKind | None = None,
    write: bool = False,
    polls: tuple[str, ...] = (),
) -> Callable[[F], F]:  # pragma: no mutate block (runs at import; tests/infra checks ACTIONS)
    """Declare the RBAC action of an ARM call (and of its LRO polling) and the kind of group it
    acts in; writes are audited."""

    def decorate(fn: F) -> F:
        ACTIONS[fn.__name__] = ArmAction(fn.__name__, action, write, scope, polls)
        if not write:
            return fn

        @functools.wraps(fn)
        def audited(self: Arm, target: str, *args: Any, **kwargs: Any) -> Any:
            return _audited(self, fn, action, target, *args, **kwargs)

        return cast(F, audited)  # functools.wraps: the same signature as `fn`

    return decorate


def _audited(arm: Arm, fn: Callable, action: str, target: str, *args: Any, **kwargs: Any) -> Any:
    """Make an ARM write and audit it, ok or not, with the request id Azure gave it."""
    seen: dict[str, str] = {}
    kwargs["raw_response_hook"] = functools.partial(_remember_request_id, seen)
    try:
        result = fn(arm, target, *args, **kwargs)
    except Exception as exc:
        arm._audit_write(action, target, f"error: {type(exc).__name__}", seen, exc)
        raise
    arm._audit_write(action, target, "ok", seen)
    return result


def required_actions(scope: GroupKind | None = None) -> set[str]:
    """Every RBAC action the code can need in groups of one kind (all kinds by default): that
    kind's custom role must hold exactly these."""
    chosen = [a for a in ACTIONS.values() if scope is None or a.scope == scope]
    return {a.action for a in chosen} | {p for a in chosen for p in a.polls}


def _remember_request_id(seen: dict[str, str], response: Any) -> None:
    headers = response.http_response.headers
    seen["request_id"] = headers.get("x-ms-request-id") or headers.get(
        "x-ms-correlation-request-id"
    )


def _ids(resource_id: str, *kinds: str) -> tuple[str, ...]:
    arm = ArmId.parse(resource_id)
    if arm is None:
        raise ArmCallError(f"not an ARM resource id: {resource_id!r}")
    values = (arm.resource_group, *(arm.get(kind) for kind in kinds))
    if not all(values):
        raise ArmCallError(f"{resource_id!r} lacks one of resourceGroups/{'/'.join(kinds)}")
    return values  # type: ignore[return-value]  # all() above: no None is left


class Arm:
    """ARM calls of one subscription, on the official SDK clients."""

    def __init__(
        self, clients: ArmClients, audit: AuditLog, actor: str, run_id: str | None = None
    ) -> None:
        """`run_id`: the fix run these calls belong to, so its card can quote the audit."""
        self._clients = clients
        self._audit = audit
        self._actor = actor
        self._run_id = run_id

    def _audit_write(self, action, target, result, seen, exc: Exception | None = None) -> None:
        self._audit.record(
            self._actor, action, target, result,
            request_id=seen.get("request_id"), error=str(exc)[:300] if exc else None,
            **({"run_id": self._run_id} if self._run_id else {}),
        )  # fmt: skip

    # -- Azure Migrate replication -----------------------------------------------------------
    @arm_action(f"{MIGRATION_ITEMS}/read", scope=GroupKind.MIGRATE)
    def get_migration_item(self, item_id: str) -> dict[str, Any]:
        rg, vault, fabric, container, item = _ids(
            item_id, "vaults", "replicationFabrics", "replicationProtectionContainers",
            "replicationMigrationItems",
        )  # fmt: skip
        found = self._clients.site_recovery.replication_migration_items.get(
            rg, vault, fabric, container, item
        )
        return found.as_dict()

    @arm_action(f"{RS}/vaults/replicationMigrationItems/read", scope=GroupKind.MIGRATE)
    def list_migration_items(self, vault_id: str) -> list[dict[str, Any]]:
        rg, vault = _ids(vault_id, "vaults")
        items = self._clients.site_recovery.replication_migration_items.list(rg, vault)
        return [item.as_dict() for item in items]

    @arm_action(f"{MIGRATION_ITEMS}/resync/action", scope=GroupKind.MIGRATE, write=True)
    def resync(self, item_id: str, **kwargs: Any) -> str | None:
        """Start a resync without resetting CBT; returns the replication job it started.

        Site Recovery names the job in the 202's async-operation URL
        (`.../replicationOperationStatus/{job}`), as Az.Migrate reads it; None if it did not.
        """
        rg, vault, fabric, container, item = _ids(
            item_id, "vaults", "replicationFabrics", "replicationProtectionContainers",
            "replicationMigrationItems",
        )  # fmt: skip
        body = {
            "properties": {
                "providerSpecificDetails": {"instanceType": "VMwareCbt", "skipCbtReset": "true"}
            }
        }
        headers: dict[str, str] = {}
        hook = kwargs.pop("raw_response_hook", None)

        def keep_headers(response: Any) -> None:
            headers.update(response.http_response.headers)
            if hook:
                hook(response)

        self._clients.site_recovery.replication_migration_items.begin_resync(
            rg, vault, fabric, container, item, body, polling=False,
            raw_response_hook=keep_headers, **kwargs,
        )  # fmt: skip
        return _last_segment(headers, "replicationOperationStatus")

    @arm_action(f"{RS}/vaults/replicationJobs/read", scope=GroupKind.MIGRATE)
    def get_replication_job(self, vault_id: str, job_name: str) -> dict[str, Any]:
        rg, vault = _ids(vault_id, "vaults")
        return self._clients.site_recovery.replication_jobs.get(rg, vault, job_name).as_dict()

    # -- Restore point collections and locks -----------------------------------------------
    @arm_action(
        "Microsoft.Resources/subscriptions/resourceGroups/read", scope=GroupKind.SUBSCRIPTION
    )
    def list_resource_groups(self) -> list[dict[str, Any]]:
        groups = self._clients.resources.resource_groups.list()
        return [{"name": g.name, "id": g.id, "location": g.location} for g in groups]

    @arm_action("Microsoft.Compute/restorePointCollections/read", scope=GroupKind.RESTORE_POINTS)
    def list_restore_point_collections(self, resource_group: str) -> list[dict[str, Any]]:
        found = self._clients.compute.restore_point_collections.list(resource_group)
        return [c.as_dict() for c in found]

    @arm_action(
        "Microsoft.Compute/restorePointCollections/delete",
        scope=GroupKind.RESTORE_POINTS,
        write=True,
        polls=(COMPUTE_OPERATIONS,),
    )
    def delete_restore_point_collection(self, collection_id: str, **kwargs: Any) -> None:
        rg, name = _ids(collection_id, "restorePointCollections")
        self._clients.compute.restore_point_collections.begin_delete(rg, name, **kwargs).result()

    @arm_action("Microsoft.Compute/restorePointCollections/read", scope=GroupKind.RESTORE_POINTS)
    def get_restore_point_collection(self, collection_id: str) -> dict[str, Any]:
        """The collection with its restore points (`$expand=restorePoints`)."""
        rg, name = _ids(collection_id, "restorePointCollections")
        found = self._clients.compute.restore_point_collections.get(
            rg, name, expand="restorePoints"
        )
        return found.as_dict()

    @arm_action("Microsoft.Authorization/locks/read", scope=GroupKind.RESTORE_POINTS)
    def list_locks(self, resource_group: str) -> list[dict[str, Any]]:
        """Locks on the group and on the resources in it, each with its own scope."""
        found = self._clients.locks.management_locks.list_at_resource_group_level(resource_group)
        return [_lock(lock) for lock in found]

    @arm_action("Microsoft.Authorization/locks/delete", scope=GroupKind.RESTORE_POINTS, write=True)
    def delete_lock(self, lock_id: str, **kwargs: Any) -> None:
        """Delete the lock at its own scope (a group, or one resource in it)."""
        scope, name = lock_scope(lock_id)
        self._clients.locks.management_locks.delete_by_scope(scope.lstrip("/"), name, **kwargs)

    @arm_action("Microsoft.Authorization/locks/write", scope=GroupKind.RESTORE_POINTS, write=True)
    def put_lock(self, lock_id: str, lock: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Create or restore a lock exactly, at its own scope: name, level, notes and owners."""
        from azure.mgmt.resource.locks.models import ManagementLockObject, ManagementLockOwner

        scope, name = lock_scope(lock_id)
        body = ManagementLockObject(
            level=lock["level"],
            notes=lock.get("notes"),
            owners=[ManagementLockOwner(application_id=o) for o in lock.get("owners") or []]
            or None,
        )
        created = self._clients.locks.management_locks.create_or_update_by_scope(
            scope.lstrip("/"), name, body, **kwargs
        )
        return _lock(created)

    # -- Azure Backup -----------------------------------------------------------------------
    @arm_action(f"{PROTECTED_ITEMS}/read", scope=GroupKind.VAULTS)
    def get_protected_item(self, vault_id: str, vm_id: str) -> dict[str, Any]:
        """The vault's protected item for the VM (ResourceNotFoundError when it has none)."""
        rg, vault = _ids(vault_id, "vaults")
        container, item = _backup_names(vm_id)
        found = self._clients.backup.protected_items.get(vault, rg, "Azure", container, item)
        return found.as_dict()

    @arm_action(f"{PROTECTED_ITEMS}/backup/action", scope=GroupKind.VAULTS, write=True)
    def trigger_backup(self, vm_id: str, vault_id: str, **kwargs: Any) -> str | None:
        """Ask for an on-demand backup; returns the id of the operation that will name its job
        (from the 202's Azure-AsyncOperation, else its Location)."""
        rg, vault = _ids(vault_id, "vaults")
        container, item = _backup_names(vm_id)
        expiry = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "properties": {
                "objectType": "IaasVMBackupRequest",
                "recoveryPointExpiryTimeInUTC": expiry,
            }
        }
        headers = self._clients.backup.backups.trigger(
            vault, rg, "Azure", container, item, body,
            cls=lambda response, _body, _headers: dict(response.http_response.headers), **kwargs,
        )  # fmt: skip
        return _last_segment(headers, "operationsStatus") or _last_segment(
            headers, "operationResults", header="Location"
        )

    @arm_action(f"{PROTECTED_ITEMS}/operationsStatus/read", scope=GroupKind.VAULTS)
    def get_backup_operation(self, vault_id: str, vm_id: str, operation_id: str) -> dict[str, Any]:
        """A trigger's operation: `status`, and `properties.jobId` once the job exists."""
        rg, vault = _ids(vault_id, "vaults")
        container, item = _backup_names(vm_id)
        found = self._clients.backup.protected_item_operation_statuses.get(
            vault, rg, "Azure", container, item, operation_id
        )
        return found.as_dict()

    @arm_action(f"{RS}/Vaults/backupJobs/read", scope=GroupKind.VAULTS)
    def list_backup_jobs(
        self, vault_id: str, vm_id: str, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The VM's backup jobs in the vault, newest first (matched by its container)."""
        return _newest_first(
            j for j in self._vm_backup_jobs(vault_id, status) if is_job_of(j, vm_id)
        )

    @arm_action(f"{RS}/Vaults/backupJobs/read", scope=GroupKind.VAULTS)
    def list_backup_jobs_named(self, vault_id: str, vm_name: str) -> list[dict[str, Any]]:
        """The backup jobs of the VMs named `vm_name` in the vault, newest first: for a person
        who asks about a VM by its name (a job names its VM by friendly name)."""
        name = vm_name.lower()
        return _newest_first(
            j for j in self._vm_backup_jobs(vault_id)
            if str(j["properties"].get("entityFriendlyName") or "").lower() == name
        )  # fmt: skip

    def _vm_backup_jobs(self, vault_id: str, status: str | None = None) -> list[dict[str, Any]]:
        rg, vault = _ids(vault_id, "vaults")
        clauses = ["backupManagementType eq 'AzureIaasVM'", "operation eq 'Backup'"]
        if status:
            clauses.append(f"status eq '{_odata_literal(status)}'")
        jobs = self._clients.backup.backup_jobs.list(vault, rg, filter=" and ".join(clauses))
        return [j.as_dict() for j in jobs]

    @arm_action(f"{RS}/Vaults/backupJobs/read", scope=GroupKind.VAULTS)
    def list_backup_jobs_between(
        self, vault_id: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """VM backup jobs that started in [since, until), whatever their status, for the
        poller: a failure is news only when no later backup of that VM completed."""
        rg, vault = _ids(vault_id, "vaults")
        clauses = (
            "backupManagementType eq 'AzureIaasVM'",
            "operation eq 'Backup'",
            f"startTime eq '{_job_time(since)}'",
            f"endTime eq '{_job_time(until)}'",
        )
        jobs = self._clients.backup.backup_jobs.list(vault, rg, filter=" and ".join(clauses))
        return [job.as_dict() for job in jobs]

    @arm_action(f"{RS}/Vaults/backupJobs/read", scope=GroupKind.VAULTS)
    def get_backup_job(self, vault_id: str, job_name: str) -> dict[str, Any]:
        rg, vault = _ids(vault_id, "vaults")
        return self._clients.backup.job_details.get(vault, rg, job_name).as_dict()

    # -- Virtual machines -------------------------------------------------------------------
    @arm_action("Microsoft.Compute/virtualMachines/read", scope=GroupKind.VMS)
    def get_vm(self, vm_id: str) -> dict[str, Any]:
        rg, vm = _ids(vm_id, "virtualMachines")
        return self._clients.compute.virtual_machines.get(rg, vm).as_dict()

    # -- VM agent and extensions ------------------------------------------------------------
    @arm_action("Microsoft.Compute/virtualMachines/instanceView/read", scope=GroupKind.VMS)
    def instance_view(self, vm_id: str) -> dict[str, Any]:
        rg, vm = _ids(vm_id, "virtualMachines")
        return self._clients.compute.virtual_machines.instance_view(rg, vm).as_dict()

    @arm_action(
        "Microsoft.Compute/virtualMachines/extensions/delete",
        scope=GroupKind.VMS,
        write=True,
        polls=(COMPUTE_OPERATIONS,),
    )
    def delete_extension(self, vm_id: str, name: str, **kwargs: Any) -> None:
        rg, vm = _ids(vm_id, "virtualMachines")
        self._clients.compute.virtual_machine_extensions.begin_delete(
            rg, vm, name, **kwargs
        ).result()

    # -- Private endpoints, private DNS and key vaults (read-only diagnosis) ------------------
    @arm_action("Microsoft.Network/privateEndpoints/read", scope=GroupKind.SUBSCRIPTION)
    def list_private_endpoints(self) -> list[dict[str, Any]]:
        """Every private endpoint of the subscription (a vault's may live in a network group)."""
        found = self._clients.network.private_endpoints.list_by_subscription()
        return [endpoint.as_dict() for endpoint in found]

    @arm_action(f"{PRIVATE_DNS_ZONES}/read", scope=GroupKind.SUBSCRIPTION)
    def list_private_dns_zones(self) -> list[dict[str, Any]]:
        return [zone.as_dict() for zone in self._clients.private_dns.private_zones.list()]

    @arm_action(f"{PRIVATE_DNS_ZONES}/virtualNetworkLinks/read", scope=GroupKind.SUBSCRIPTION)
    def list_virtual_network_links(self, zone_id: str) -> list[dict[str, Any]]:
        rg, zone = _ids(zone_id, "privateDnsZones")
        links = self._clients.private_dns.virtual_network_links.list(rg, zone)
        return [link.as_dict() for link in links]

    @arm_action(f"{PRIVATE_DNS_ZONES}/A/read", scope=GroupKind.SUBSCRIPTION)
    def get_a_record(self, zone_id: str, name: str) -> dict[str, Any] | None:
        """The A record set `name` of the zone, or None when it does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        rg, zone = _ids(zone_id, "privateDnsZones")
        try:
            return self._clients.private_dns.record_sets.get(rg, zone, "A", name).as_dict()
        except ResourceNotFoundError:
            return None

    @arm_action("Microsoft.Resources/subscriptions/resources/read", scope=GroupKind.SUBSCRIPTION)
    def list_key_vaults(self) -> list[dict[str, Any]]:
        """Id, name and location of every key vault of the subscription."""
        found = self._clients.resources.resources.list(filter=f"resourceType eq '{KEY_VAULT_TYPE}'")
        return [{"id": r.id, "name": r.name, "location": r.location} for r in found]

    @arm_action(f"{KEY_VAULT_TYPE}/read", scope=GroupKind.SUBSCRIPTION)
    def get_key_vault(self, key_vault_id: str) -> dict[str, Any]:
        arm = ArmId.parse(key_vault_id)
        if (
            arm is None
            or (arm.get("providers") or "").lower() != KEY_VAULT_TYPE.split("/")[0].lower()
        ):
            raise ArmCallError(f"not a key vault id: {key_vault_id!r}")
        resource = self._clients.resources.resources.get_by_id(
            key_vault_id, api_version=KEY_VAULT_API
        )
        return resource.as_dict()


LOCKS_PROVIDER = "/providers/Microsoft.Authorization/locks/"


def lock_scope(lock_id: str) -> tuple[str, str]:
    """(scope, name) of a lock id: the scope is everything before its provider segment."""
    scope, found, name = lock_id.rpartition(LOCKS_PROVIDER)
    if not found or not scope or not name or "/" in name:
        raise ArmCallError(f"not a management lock id: {lock_id!r}")
    return scope, name


def is_job_of(job: dict[str, Any], vm_id: str) -> bool:
    """A Backup job names its VM only by container (`iaasvmcontainerv2;{group};{vm}`) and
    friendly name; both must agree with the VM's id."""
    arm = ArmId.parse(vm_id)
    if arm is None or not (vm := arm.get("virtualMachines")):
        return False
    props = job.get("properties") or {}
    container = str(props.get("containerName") or "").lower()
    friendly = props.get("entityFriendlyName")
    return (
        container.endswith(f";{arm.resource_group};{vm}".lower())
        and isinstance(friendly, str)
        and friendly.lower() == vm.lower()
    )


def _newest_first(jobs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(jobs, key=lambda j: str(j["properties"].get("startTime") or ""), reverse=True)


def _last_segment(
    headers: dict[str, str], marker: str, header: str = "Azure-AsyncOperation"
) -> str | None:
    """The path segment after `/{marker}/` in a 202's header URL, or None."""
    url = next((v for k, v in headers.items() if k.lower() == header.lower()), "")
    found = re.search(f"/{re.escape(marker)}/([^/?]+)", url)
    return found.group(1) if found else None


def _lock(lock: Any) -> dict[str, Any]:
    """A lock as the playbook records it: everything needed to put it back exactly."""
    return {
        "id": lock.id,
        "scope": lock_scope(lock.id)[0],
        "name": lock.name,
        "level": lock.level,  # text, as the SDK reads it: "CanNotDelete", "ReadOnly"
        "notes": lock.notes,
        "owners": sorted(o.application_id for o in (lock.owners or []) if o.application_id),
    }


def _backup_names(vm_id: str) -> tuple[str, str]:
    """Container and protected item names Azure Backup uses for an Azure VM."""
    rg, vm = _ids(vm_id, "virtualMachines")
    return f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}", f"VM;iaasvmcontainerv2;{rg};{vm}"


def _job_time(moment: datetime) -> str:
    """The time format the Backup jobs $filter documents: 2016-01-01 00:00:00 AM (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %I:%M:%S %p")


def _odata_literal(value: str) -> str:
    """Quote a value for an OData string literal; ARM filters have no parameter binding."""
    return value.replace("'", "''")
