"""The in-memory Azure estate the simulator serves, and what its resource providers do.

All mutation goes through `Estate` methods that take `Estate.lock`, so the server thread and
test code can both touch it. Builders (`demo`, `from_resources`) live in `builders.py`.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.simulator.errors import ArmError, not_found, scope_locked
from devtools.simulator.resources import (
    BackupJob,
    BackupOperation,
    BackupRequest,
    Extension,
    KeyVault,
    Lock,
    MigrationItem,
    PrivateDnsZone,
    PrivateEndpoint,
    ProtectedItem,
    ReplicationJob,
    ResourceGroup,
    RestorePoint,
    RestorePointCollection,
    Vault,
    VirtualMachine,
    generic_arm,
    rg_id,
    stable_guid,
)

DEMO_SUBSCRIPTION = "6a1e5f2c-3b4d-4e8f-9a0b-1c2d3e4f5a6b"
DEMO_TENANT = "72f988bf-0000-4e8f-9a0b-000000000001"
# The demo's approver group: the local dev user (devtools.localhost.serve) and one other.
DEMO_APPROVER_GROUP = "5e1f0a3c-7b2d-4c9e-8f10-a1b2c3d4e5f6"
DEMO_APPROVER_GROUP_MEMBERS = (
    "00000000-0000-0000-0000-00000000d0e5",
    "3c2b1a00-4d5e-4f60-8a7b-9c0d1e2f3a4b",
)
LOCK_LEVELS = ("CanNotDelete", "ReadOnly", "NotSpecified")
RP_LIMIT_CODE = "UserErrorRpCollectionLimitReached"
# Backup job errorDetails carry integer codes; these values are the simulator's own.
GUEST_AGENT_CODE = "UserErrorGuestAgentStatusUnavailable"
GUEST_AGENT_MESSAGE = "VM Agent unable to communicate with Azure Backup"
BACKUP_ERROR_NUMBERS = {RP_LIMIT_CODE: 400237, GUEST_AGENT_CODE: 400182}
RP_LIMIT_MESSAGE = "The Restore Point collection max limit has reached."


def utc_now() -> datetime:
    return datetime.now(UTC)


def key(resource_id: str) -> str:
    """ARM ids are case-insensitive."""
    return resource_id.rstrip("/").lower()


@dataclass
class Behaviour:
    """Knobs for how quickly things finish and how often they fail."""

    backup_operation_polls: int = 1  # reads before a trigger's operation names its job
    backup_job_polls: int = 1
    replication_job_polls: int = 2
    resync_names_job: bool = True  # the resync's 202 names its job in Azure-AsyncOperation
    lro_polls: int = 1
    retry_after: int | None = None
    rpc_delete_fail_first: int = 0
    rpc_delete_fail_status: int = 409
    max_restore_points: int = 18
    # After a backup fails on a full, unlocked collection, the service cleans it up this many
    # reads of the collection later (None: the cleanup never happens, as Microsoft warns).
    auto_cleanup_reads: int | None = 1
    points_kept_by_cleanup: int = 2
    # False: a 202 names its operation only in Location, as ARM allows (no Azure-AsyncOperation)
    async_operation_header: bool = True
    # False: answers carry only ARM's x-ms-correlation-request-id, no provider x-ms-request-id
    request_id_header: bool = True


@dataclass
class AsyncOperation:
    """A Location-polled LRO (compute deletes): 202 while running, then the effect applies."""

    name: str
    location: str
    polls_left: int
    on_done: Callable[[], None]
    done: bool = False


@dataclass
class _Kinds:
    resource_groups: dict[str, ResourceGroup] = field(default_factory=dict)
    locks: dict[str, Lock] = field(default_factory=dict)
    vaults: dict[str, Vault] = field(default_factory=dict)
    migration_items: dict[str, MigrationItem] = field(default_factory=dict)
    replication_jobs: dict[str, ReplicationJob] = field(default_factory=dict)
    vms: dict[str, VirtualMachine] = field(default_factory=dict)
    protected_items: dict[str, ProtectedItem] = field(default_factory=dict)
    backup_jobs: dict[str, BackupJob] = field(default_factory=dict)
    restore_point_collections: dict[str, RestorePointCollection] = field(default_factory=dict)
    private_endpoints: dict[str, PrivateEndpoint] = field(default_factory=dict)
    dns_zones: dict[str, PrivateDnsZone] = field(default_factory=dict)
    key_vaults: dict[str, KeyVault] = field(default_factory=dict)


class Estate(_Kinds):
    """Subscriptions, resource groups and the resources the playbooks touch."""

    def __init__(
        self,
        subscription_id: str = DEMO_SUBSCRIPTION,
        *,
        tenant_id: str = DEMO_TENANT,
        behaviour: Behaviour | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.subscription_id = subscription_id
        self.tenant_id = tenant_id
        self.behaviour = behaviour or Behaviour()
        self.clock = clock or utc_now
        self.lock = threading.RLock()
        self.backup_requests: list[BackupRequest] = []
        self.backup_operations: dict[str, BackupOperation] = {}
        self.pending_cleanups: dict[str, int] = {}  # collection key -> reads until it lands
        self.operations: dict[str, AsyncOperation] = {}
        self._delete_attempts: dict[str, int] = {}
        self.groups: dict[str, set[str]] = {}  # Entra group id -> member object ids

    # -- builders (see builders.py) ------------------------------------------------------

    @classmethod
    def demo(cls, **kwargs: Any) -> Estate:
        from devtools.simulator.builders import demo_estate

        return demo_estate(**kwargs)

    @classmethod
    def from_resources(cls, **kwargs: Any) -> Estate:
        from devtools.simulator.builders import estate_from_resources

        return estate_from_resources(**kwargs)

    def clone(self) -> Estate:
        """A deep copy with its own lock (the admin reset restores one)."""
        with self.lock:
            return copy.deepcopy(self)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()

    # -- directory (Entra groups, as Microsoft Graph sees them) -----------------------------

    def add_group(self, group_id: str, members: Iterable[str]) -> None:
        with self.lock:
            self.groups.setdefault(group_id.lower(), set()).update(m.lower() for m in members)

    def member_groups(self, object_id: str, group_ids: Iterable[str]) -> list[str]:
        """Those of `group_ids` that list `object_id` (as given, in the order asked)."""
        user = object_id.lower()
        with self.lock:
            return [g for g in group_ids if user in self.groups.get(g.lower(), ())]

    # -- adding resources ------------------------------------------------------------------

    def add_resource_group(
        self, name: str, location: str, subscription_id: str | None = None
    ) -> ResourceGroup:
        sub = subscription_id or self.subscription_id
        with self.lock:
            existing = self.resource_groups.get(key(rg_id(sub, name)))
            if existing:
                return existing
            group = ResourceGroup(sub, name, location)
            self.resource_groups[key(group.id)] = group
            return group

    def _store(self, table: dict[str, Any], resource: Any, location: str) -> Any:
        with self.lock:
            self.add_resource_group(resource.resource_group, location, resource.subscription_id)
            table[key(resource.id)] = resource
            return resource

    def add_vault(self, vault: Vault) -> Vault:
        """The vault with `vault`'s id: the one already there (its items and jobs refer to it),
        or `vault` itself."""
        with self.lock:
            return self.vaults.get(key(vault.id)) or self._store(self.vaults, vault, vault.location)

    def add_vm(self, vm: VirtualMachine) -> VirtualMachine:
        return self._store(self.vms, vm, vm.location)

    def add_lock(self, lock: Lock) -> Lock:
        with self.lock:
            self.locks[key(lock.id)] = lock
        return lock

    def add_restore_point_collection(self, rpc: RestorePointCollection) -> RestorePointCollection:
        return self._store(self.restore_point_collections, rpc, rpc.location)

    def add_private_endpoint(self, endpoint: PrivateEndpoint) -> PrivateEndpoint:
        return self._store(self.private_endpoints, endpoint, endpoint.location)

    def add_dns_zone(self, zone: PrivateDnsZone) -> PrivateDnsZone:
        return self._store(self.dns_zones, zone, "global")

    def add_key_vault(self, vault: KeyVault) -> KeyVault:
        return self._store(self.key_vaults, vault, vault.location)

    def add_migration_item(self, item: MigrationItem) -> MigrationItem:
        self.add_vault(item.vault)
        with self.lock:
            self.migration_items[key(item.id)] = item
        return item

    def add_backup_job(self, job: BackupJob) -> BackupJob:
        with self.lock:
            self.backup_jobs[key(job.id)] = job
        return job

    def protect_vm(self, vm: VirtualMachine, vault: Vault) -> ProtectedItem:
        self.add_vm(vm)
        self.add_vault(vault)
        item = ProtectedItem(vault, vm)
        with self.lock:
            self.protected_items[key(item.id)] = item
        return item

    # -- lookups ---------------------------------------------------------------------------

    def get(self, table: dict[str, Any], resource_id: str, kind: str) -> Any:
        with self.lock:
            found = table.get(key(resource_id))
        if found is None:
            parts = resource_id.strip("/").split("/")
            group = parts[3] if len(parts) > 3 and parts[2].lower() == "resourcegroups" else None
            raise not_found(kind, parts[-1], group)
        return found

    def require_group(self, subscription_id: str, resource_group: str) -> ResourceGroup:
        with self.lock:
            group = self.resource_groups.get(key(rg_id(subscription_id, resource_group)))
        if group is None:
            raise ArmError(
                404,
                "ResourceGroupNotFound",
                f"Resource group '{resource_group}' could not be found.",
            )
        return group

    def in_group(self, table: dict[str, Any], subscription_id: str, resource_group: str) -> list:
        prefix = key(rg_id(subscription_id, resource_group)) + "/"
        with self.lock:
            return [r for k, r in table.items() if k.startswith(prefix)]

    def in_subscription(self, table: dict[str, Any], subscription_id: str) -> list:
        prefix = key(f"/subscriptions/{subscription_id}") + "/"
        with self.lock:
            return [r for k, r in table.items() if k.startswith(prefix)]

    def generic_resources(self, subscription_id: str) -> list[dict[str, Any]]:
        """The top-level resources of a subscription, as `GET .../resources` lists them."""
        tables = (
            self.vaults, self.vms, self.restore_point_collections, self.private_endpoints,
            self.dns_zones, self.key_vaults,
        )  # fmt: skip
        return [generic_arm(r) for t in tables for r in self.in_subscription(t, subscription_id)]

    def locks_on(self, subscription_id: str, resource_group: str) -> list[Lock]:
        """The locks a resource-group list answers with: on the group and on its resources."""
        group = rg_id(subscription_id, resource_group)
        with self.lock:
            return [lock for lock in self.locks.values() if Lock(group, "", "").covers(lock.scope)]

    def locks_over(self, resource_id: str) -> list[Lock]:
        """The locks that apply to `resource_id`: on it or on any scope above it."""
        with self.lock:
            return [lock for lock in self.locks.values() if lock.covers(resource_id)]

    def ensure_writable(self, target_id: str, *, delete: bool) -> None:
        """ReadOnly blocks writes and deletes, CanNotDelete blocks deletes, from any scope
        above the target (subscription, group, parent resource) or on the target itself."""
        blocking = [
            lock
            for lock in self.locks_over(target_id)
            if lock.level == "ReadOnly" or (delete and lock.level == "CanNotDelete")
        ]
        if blocking:
            raise scope_locked(
                target_id, "delete" if delete else "write", sorted({b.scope for b in blocking})
            )

    def find(self, resource_id: str) -> Any:
        """The subscription, group or resource `resource_id` names, or None."""
        wanted = key(resource_id)
        if re.fullmatch(r"/subscriptions/[^/]+", wanted):
            return self if wanted == key(f"/subscriptions/{self.subscription_id}") else None
        with self.lock:
            for table in (self.resource_groups, *self._resource_tables()):
                if wanted in table:
                    return table[wanted]
        return None

    def _resource_tables(self) -> tuple[dict[str, Any], ...]:
        return (
            self.vaults, self.vms, self.restore_point_collections, self.private_endpoints,
            self.dns_zones, self.key_vaults, self.migration_items, self.protected_items,
        )  # fmt: skip

    def restore_points_of(self, vm_id: str) -> list[RestorePointCollection]:
        with self.lock:
            return [
                c
                for c in self.restore_point_collections.values()
                if key(c.source_vm_id) == key(vm_id)
            ]

    # -- locks -----------------------------------------------------------------------------

    def put_lock(
        self, scope: str, name: str, level: str, notes: str | None, owners: list[dict[str, str]]
    ) -> tuple[Lock, bool]:
        """Create or replace a lock at `scope`; returns (lock, created)."""
        if level not in LOCK_LEVELS:
            raise ArmError(400, "InvalidLockLevel", f"The lock level '{level}' is not valid.")
        if notes is not None and len(notes) > 512:
            raise ArmError(400, "LockNotesTooLong", "Lock notes can be at most 512 characters.")
        if self.find(scope) is None:
            raise ArmError(404, "ResourceNotFound", f"The scope '{scope}' was not found.")
        lock = Lock(scope, name, level, notes, owners)
        with self.lock:
            created = key(lock.id) not in self.locks
            self.locks[key(lock.id)] = lock
        return lock, created

    def get_lock(self, lock_id: str) -> Lock | None:
        with self.lock:
            return self.locks.get(key(lock_id))

    def delete_lock(self, lock_id: str) -> bool:
        with self.lock:
            return self.locks.pop(key(lock_id), None) is not None

    # -- Site Recovery ---------------------------------------------------------------------

    def resync(self, item: MigrationItem) -> ReplicationJob:
        self.ensure_writable(item.id, delete=False)
        with self.lock:
            if "StartResync" not in item.allowed_operations:
                raise ArmError(
                    400,
                    "OperationNotAllowed",
                    f"StartResync is not allowed for migration item '{item.name}' in its current "
                    f"state (allowed operations: {', '.join(item.allowed_operations) or 'none'}).",
                )
            job = ReplicationJob(
                item.vault,
                str(uuid.uuid4()),
                item,
                self.clock(),
                self.behaviour.replication_job_polls,
            )
            self.replication_jobs[key(job.id)] = job
            item.allowed_operations = [op for op in item.allowed_operations if op != "StartResync"]
            item.resync_state = "StartedResynchronization"
            item.resync_count += 1
            item.current_job = {
                "jobName": job.name,
                "jobId": job.id,
                "startTime": job.to_arm()["properties"]["startTime"],
            }
            return job

    def poll_replication_job(self, job: ReplicationJob) -> ReplicationJob:
        with self.lock:
            if job.state != "InProgress" or not _due(job):
                return job
            job.state, job.ended = "Succeeded", self.clock()
            item = job.target
            item.health, item.health_errors = "Normal", []
            item.resync_required, item.resync_state = "false", "None"
            item.current_job = None
            if "StartResync" not in item.allowed_operations:
                item.allowed_operations.append("StartResync")
            return job

    # -- Backup ----------------------------------------------------------------------------
    # An on-demand backup is accepted as an operation (202); the job exists only once the
    # operation has resolved, and it runs for a while before it ends. "A while" is counted in
    # reads of the vault's backup state, so a test's virtual clock and a real one agree.

    def trigger_backup(self, item: ProtectedItem) -> BackupOperation:
        self.ensure_writable(item.id, delete=False)
        with self.lock:
            busy = self._backup_in_progress(item)
            if busy:
                raise ArmError(
                    409,
                    "UserErrorBackupOperationInProgress",
                    "Unable to initiate backup as another backup operation is currently in "
                    f"progress ({busy}).",
                )
            now = self.clock()
            operation = BackupOperation(
                str(uuid.uuid4()), item, now, self.behaviour.backup_operation_polls
            )
            self.backup_operations[operation.name] = operation
            self.backup_requests.append(BackupRequest(item, now, operation))
            return operation

    def _backup_in_progress(self, item: ProtectedItem) -> str | None:
        for operation in self.backup_operations.values():
            if operation.item is item and operation.status == "InProgress":
                return f"operation {operation.name}"
        for job in self.backup_jobs.values():
            if job.item is item and job.status == "InProgress":
                return f"job {job.name}"
        return None

    def poll_backup_operation(self, operation: BackupOperation) -> BackupOperation:
        """One more look at a trigger's operation: it resolves into a job after a few."""
        with self.lock:
            if operation.status != "InProgress" or not _due(operation):
                return operation
            job = BackupJob(
                operation.item.vault, str(uuid.uuid4()), operation.item, self.clock(),
                self.behaviour.backup_job_polls,
            )  # fmt: skip
            self.backup_jobs[key(job.id)] = job
            operation.status, operation.job, operation.ended = "Succeeded", job, self.clock()
            return operation

    def advance_backups(self, vault: Vault) -> None:
        """Time passes for a vault's backups whenever its backup state is read."""
        with self.lock:
            for operation in list(self.backup_operations.values()):
                if operation.item.vault is vault:
                    self.poll_backup_operation(operation)
            for job in list(self.backup_jobs.values()):
                if job.vault is vault:
                    self.poll_backup_job(job)

    def poll_backup_job(self, job: BackupJob) -> BackupJob:
        with self.lock:
            if job.status != "InProgress" or not _due(job):
                return job
            job.ended = self.clock()
            vm = job.item.vm
            if not vm.agent_ready:  # the snapshot needs the VM agent
                self._fail(job, GUEST_AGENT_CODE, GUEST_AGENT_MESSAGE)
                return job
            collections = self.restore_points_of(vm.id)
            if sum(len(c.restore_points) for c in collections) >= self.behaviour.max_restore_points:
                self._fail_on_full_collection(job, collections)
                return job
            job.status = "Completed"
            job.item.health_status, job.item.last_backup_status = "Passed", "Completed"
            job.item.last_backup_time = job.ended
            target = collections[0] if collections else self._new_collection(vm)
            target.restore_points.append(RestorePoint(str(uuid.uuid4()), job.ended))
            self._reinstall_backup_extension(vm)
            return job

    def _fail_on_full_collection(
        self, job: BackupJob, collections: list[RestorePointCollection]
    ) -> None:
        """A full collection fails the backup. When no lock stops it, the failed backup also
        starts the service's own cleanup of old restore points, which lands a little later
        (Microsoft: "Expect this on-demand operation to fail the first time")."""
        self._fail(job, RP_LIMIT_CODE, RP_LIMIT_MESSAGE)
        delay = self.behaviour.auto_cleanup_reads
        if delay is None:
            return
        for collection in collections:
            if not self._delete_blocked(collection.id):
                self.pending_cleanups[key(collection.id)] = delay

    @staticmethod
    def _fail(job: BackupJob, code: str, message: str) -> None:
        job.status = "Failed"
        job.error_details = [{"errorCode": BACKUP_ERROR_NUMBERS[code], "errorTitle": code,
                              "errorString": message, "recommendations": []}]  # fmt: skip
        job.item.health_status, job.item.last_backup_status = "ActionRequired", "Failed"

    def _delete_blocked(self, resource_id: str) -> bool:
        return any(
            lock.level in {"CanNotDelete", "ReadOnly"} for lock in self.locks_over(resource_id)
        )

    def observe_collection(self, collection: RestorePointCollection) -> None:
        """A read of a collection: a cleanup the backup service started may land now. It keeps
        only the newest restore points, and cannot run while a lock covers the collection."""
        with self.lock:
            reads = self.pending_cleanups.get(key(collection.id))
            if reads is None:
                return
            if reads > 0:
                self.pending_cleanups[key(collection.id)] = reads - 1
                return
            del self.pending_cleanups[key(collection.id)]
            if self._delete_blocked(collection.id):
                return
            keep = self.behaviour.points_kept_by_cleanup
            newest = sorted(collection.restore_points, key=lambda rp: rp.time_created)
            collection.restore_points = newest[-keep:] if keep else []

    def _new_collection(self, vm: VirtualMachine) -> RestorePointCollection:
        return self.add_restore_point_collection(
            RestorePointCollection(
                vm.subscription_id,
                f"AzureBackupRG_{vm.location}_1",
                collection_name(vm.name, str(len(self.backup_requests))),
                vm.location,
                vm.id,
            )
        )

    @staticmethod
    def _reinstall_backup_extension(vm: VirtualMachine) -> None:
        """The next backup reloads a removed or failed VMSnapshot extension."""
        name = "VMSnapshot" if vm.os_type == "Windows" else "VMSnapshotLinux"
        vm.extensions[name] = Extension(name, name)

    def backup_jobs_matching(self, vault: Vault, filters: dict[str, str]) -> list[BackupJob]:
        start = parse_filter_time(filters.get("starttime"))
        end = parse_filter_time(filters.get("endtime"))
        with self.lock:
            self.advance_backups(vault)
            jobs = [j for j in self.backup_jobs.values() if j.vault is vault]
            fields = {
                "status": lambda j: j.status,
                "operation": lambda j: j.operation,
                "backupmanagementtype": lambda j: "AzureIaasVM",
                "jobid": lambda j: j.name,
            }
            for name, value in filters.items():
                if name in fields:
                    jobs = [j for j in jobs if fields[name](j).lower() == value.lower()]
            if start:
                jobs = [j for j in jobs if j.started >= start]
            if end:
                jobs = [j for j in jobs if j.started <= end]
            return sorted(jobs, key=lambda j: j.started, reverse=True)

    # -- Compute ---------------------------------------------------------------------------

    def begin_delete_collection(self, rpc: RestorePointCollection) -> AsyncOperation:
        self.ensure_writable(rpc.id, delete=True)
        with self.lock:
            attempts = self._delete_attempts.get(key(rpc.id), 0) + 1
            self._delete_attempts[key(rpc.id)] = attempts
            if attempts <= self.behaviour.rpc_delete_fail_first:
                status = self.behaviour.rpc_delete_fail_status
                code = "Conflict" if status == 409 else "InternalServerError"
                raise ArmError(
                    status,
                    code,
                    f"Deleting restore point collection '{rpc.name}' with "
                    f"{len(rpc.restore_points)} restore points timed out; retry the operation.",
                )
            rpc.provisioning_state = "Deleting"
            finish = functools.partial(self.restore_point_collections.pop, key(rpc.id), None)
            return self._begin_operation(rpc.location, finish)

    def begin_delete_extension(self, vm: VirtualMachine, name: str) -> AsyncOperation:
        self.ensure_writable(f"{vm.id}/extensions/{name}", delete=True)
        with self.lock:
            extension = vm.extensions.get(name)
            if extension is None:
                raise not_found("Microsoft.Compute/virtualMachines/extensions", name)
            extension.provisioning_state = "Deleting"
            finish = functools.partial(vm.extensions.pop, name, None)
            return self._begin_operation(vm.location, finish)

    def _begin_operation(self, location: str, on_done: Callable[[], None]) -> AsyncOperation:
        operation = AsyncOperation(str(uuid.uuid4()), location, self.behaviour.lro_polls, on_done)
        self.operations[operation.name] = operation
        return operation

    def poll_operation(self, name: str) -> AsyncOperation:
        with self.lock:
            operation = self.operations.get(name)
            if operation is None:
                raise not_found("Microsoft.Compute/locations/operations", name)
            if not operation.done and _due(operation):
                operation.on_done()
                operation.done = True
            return operation

    # -- state -----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """What a test or `replay --state-out` inspects after a run."""
        with self.lock:
            return {
                "subscription_id": self.subscription_id,
                "locks": [lock.to_state() for lock in self.locks.values()],
                "restore_point_collections": [
                    c.to_state() for c in self.restore_point_collections.values()
                ],
                "migration_items": [i.to_state() for i in self.migration_items.values()],
                "backup_requests": [r.to_state() for r in self.backup_requests],
                "backup_jobs": [j.to_state() for j in self.backup_jobs.values()],
                "replication_jobs": [j.to_state() for j in self.replication_jobs.values()],
                "extensions": {
                    vm.name: {n: e.provisioning_state for n, e in vm.extensions.items()}
                    for vm in self.vms.values()
                },
            }


def _due(running: Any) -> bool:
    """One more look at something that takes a while (counted in looks): True once it ends."""
    if running.polls_left > 0:
        running.polls_left -= 1
        return False
    return True


def collection_name(vm_name: str, salt: str = "") -> str:
    """Azure Backup names collections AzureBackup_<VM name>_<number>."""
    digits = int(stable_guid(vm_name, salt).replace("-", "")[:12], 16) % 10**11
    return f"AzureBackup_{vm_name}_{digits:011d}"


_FILTER_TIME_FORMATS = (
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %H:%M:%S %p",  # the documented example writes midnight as 00:00:00 AM
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)


def parse_filter_time(value: str | None) -> datetime | None:
    """Backup job filters use 'yyyy-MM-dd hh:mm:ss AM'; ISO 8601 is accepted too."""
    if not value:
        return None
    text = value.strip().removesuffix("Z")
    for fmt in _FILTER_TIME_FORMATS:
        try:
            return datetime.strptime(text.split(".")[0], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ArmError(400, "BMSUserErrorInvalidInput", f"Invalid time '{value}' in $filter.")


def fill_restore_points(
    rpc: RestorePointCollection, count: int, now: datetime, spacing: timedelta
) -> None:
    rpc.restore_points.extend(
        RestorePoint(stable_guid(rpc.id, str(n)), now - spacing * (count - n)) for n in range(count)
    )
