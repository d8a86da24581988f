"""Resources of the simulated estate and their ARM JSON shapes (as in reference/arm/examples)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BACKUP_PUBLISHER = "Microsoft.Azure.RecoveryServices"
ARM_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime(ARM_TIME) if moment else None


def rg_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def provider_id(subscription_id: str, resource_group: str, path: str) -> str:
    return f"{rg_id(subscription_id, resource_group)}/providers/{path}"


def generic_arm(resource: Any, location: str = "global") -> dict[str, Any]:
    """A top-level resource as the generic resources list shows it: id, name, type, location."""
    namespace, kind = resource.id.split("/providers/", 1)[1].split("/")[:2]
    return {
        "id": resource.id,
        "name": resource.name,
        "type": f"{namespace}/{kind}",
        "location": getattr(resource, "location", location),
    }


def stable_guid(*parts: str) -> str:
    """A GUID derived from names, so the same estate always gets the same ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(p.lower() for p in parts)))


@dataclass
class ResourceGroup:
    subscription_id: str
    name: str
    location: str

    @property
    def id(self) -> str:
        return rg_id(self.subscription_id, self.name)

    def to_arm(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "properties": {"provisioningState": "Succeeded"},
        }


@dataclass
class Lock:
    """A management lock at any scope: a subscription, a resource group or one resource.

    As ARM does, the lock's own id is its scope followed by
    `/providers/Microsoft.Authorization/locks/{name}`, and it applies to everything under
    its scope.
    """

    scope: str
    name: str
    level: str
    notes: str | None = None
    owners: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def on_group(cls, subscription_id: str, resource_group: str, name: str, level: str,
                 notes: str | None = None) -> Lock:  # fmt: skip
        return cls(rg_id(subscription_id, resource_group), name, level, notes)

    @property
    def id(self) -> str:
        return f"{self.scope}/providers/Microsoft.Authorization/locks/{self.name}"

    def covers(self, resource_id: str) -> bool:
        """True when `resource_id` is the lock's scope or lies under it (ids are case-blind)."""
        scope, target = self.scope.rstrip("/").lower(), resource_id.rstrip("/").lower()
        return target == scope or target.startswith(scope + "/")

    def to_arm(self) -> dict[str, Any]:
        properties: dict[str, Any] = {"level": self.level}
        if self.notes is not None:
            properties["notes"] = self.notes
        if self.owners:
            properties["owners"] = [dict(o) for o in self.owners]
        return {
            "id": self.id,
            "type": "Microsoft.Authorization/locks",
            "name": self.name,
            "properties": properties,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "name": self.name,
            "level": self.level,
            "notes": self.notes,
            "owners": [dict(o) for o in self.owners],
        }


@dataclass
class Vault:
    subscription_id: str
    resource_group: str
    name: str
    location: str

    @property
    def id(self) -> str:
        return provider_id(
            self.subscription_id,
            self.resource_group,
            f"Microsoft.RecoveryServices/vaults/{self.name}",
        )


@dataclass
class MigrationItem:
    """An agentless VMware (VMwareCbt) replication migration item."""

    vault: Vault
    fabric: str
    container: str
    name: str
    machine_name: str
    health: str = "Normal"
    health_errors: list[dict[str, Any]] = field(default_factory=list)
    allowed_operations: list[str] = field(
        default_factory=lambda: [
            "DisableMigration",
            "TestMigrate",
            "Migrate",
            "StartResync",
            "PauseReplication",
        ]
    )
    migration_state: str = "Replicating"
    migration_state_description: str = "Ready to migrate"
    resync_required: str = "false"
    resync_state: str = "None"
    current_job: dict[str, str] | None = None
    resync_count: int = 0

    @property
    def id(self) -> str:
        return (
            f"{self.vault.id}/replicationFabrics/{self.fabric}/replicationProtectionContainers/"
            f"{self.container}/replicationMigrationItems/{self.name}"
        )

    def to_arm(self) -> dict[str, Any]:
        vault_path = self.vault.id
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/"
            "replicationProtectionContainers/replicationMigrationItems",
            "properties": {
                "machineName": self.machine_name,
                "migrationState": self.migration_state,
                "migrationStateDescription": self.migration_state_description,
                "testMigrateState": "None",
                "testMigrateStateDescription": "None",
                "policyFriendlyName": "migrate-policy",
                "policyId": f"{vault_path}/replicationPolicies/migrate-policy",
                "health": self.health,
                "healthErrors": [dict(e) for e in self.health_errors],
                "allowedOperations": list(self.allowed_operations),
                "currentJob": dict(self.current_job) if self.current_job else None,
                "providerSpecificDetails": {
                    "instanceType": "VMwareCbt",
                    "vmwareMachineId": stable_guid(self.machine_name),
                    "osType": "Windows",
                    "resyncRequired": self.resync_required,
                    "resyncState": self.resync_state,
                    "resyncRetryCount": self.resync_count,
                    "targetLocation": self.vault.location,
                },
            },
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "machine_name": self.machine_name,
            "vault": self.vault.name,
            "health": self.health,
            "health_errors": [dict(e) for e in self.health_errors],
            "allowed_operations": list(self.allowed_operations),
            "migration_state": self.migration_state,
            "resync_count": self.resync_count,
        }


@dataclass
class ReplicationJob:
    vault: Vault
    name: str
    target: MigrationItem
    started: datetime
    polls_left: int
    state: str = "InProgress"
    ended: datetime | None = None
    scenario: str = "ResyncReplication"
    friendly_name: str = "Resynchronize server"
    errors: list[dict[str, Any]] = field(default_factory=list)  # JobErrorDetails, once it failed

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationJobs/{self.name}"

    def to_arm(self) -> dict[str, Any]:
        done = self.state != "InProgress"
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
            "properties": {
                "activityId": stable_guid(self.name, "activity"),
                "scenarioName": self.scenario,
                "friendlyName": self.friendly_name,
                "state": self.state,
                "stateDescription": "Completed" if done else "InProgress",
                "tasks": [
                    {
                        "taskId": stable_guid(self.name, "task"),
                        "name": "ResyncTask",
                        "startTime": iso(self.started),
                        "endTime": iso(self.ended),
                        "allowedActions": [],
                        "friendlyName": "Resynchronize the server",
                        "state": self.state,
                        "stateDescription": "Completed" if done else "InProgress",
                        "taskType": "TaskDetails",
                        "customDetails": {"instanceType": "TaskDetails"},
                        "errors": [],
                    }
                ],
                "errors": self.errors,
                "startTime": iso(self.started),
                "endTime": iso(self.ended),
                "allowedActions": [] if done else ["Cancel"],
                "targetObjectId": self.target.name,
                "targetObjectName": self.target.machine_name,
                "targetInstanceType": "ProtectionEntity",
                "customDetails": {"instanceType": "AsrJobDetails", "affectedObjectDetails": {}},
            },
        }

    def to_state(self) -> dict[str, Any]:
        return {"id": self.id, "item": self.target.id, "state": self.state}


@dataclass
class Extension:
    name: str
    type: str
    provisioning_state: str = "Succeeded"
    publisher: str = BACKUP_PUBLISHER
    version: str = "1.0"


@dataclass
class VirtualMachine:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    os_type: str = "Windows"
    agent_ready: bool = True
    power_state: str = "running"
    extensions: dict[str, Extension] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return provider_id(
            self.subscription_id,
            self.resource_group,
            f"Microsoft.Compute/virtualMachines/{self.name}",
        )

    @property
    def vm_id(self) -> str:
        return stable_guid(self.id)

    def extension_arm(self, ext: Extension) -> dict[str, Any]:
        return {
            "id": f"{self.id}/extensions/{ext.name}",
            "name": ext.name,
            "type": "Microsoft.Compute/virtualMachines/extensions",
            "location": self.location,
            "properties": {
                "publisher": ext.publisher,
                "type": ext.type,
                "typeHandlerVersion": ext.version,
                "autoUpgradeMinorVersion": True,
                "provisioningState": ext.provisioning_state,
            },
        }

    def to_arm(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Compute/virtualMachines",
            "location": self.location,
            "properties": {
                "vmId": self.vm_id,
                "provisioningState": "Succeeded",
                "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
                "storageProfile": {
                    "osDisk": {"osType": self.os_type, "name": f"{self.name}_OsDisk_1"}
                },
            },
            "resources": [self.extension_arm(e) for e in self.extensions.values()],
        }

    def instance_view(self) -> dict[str, Any]:
        def status(code: str, display: str, level: str = "Info") -> dict[str, str]:
            return {"code": code, "level": level, "displayStatus": display, "time": iso(created)}

        created = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

        agent = (
            status("ProvisioningState/succeeded", "Ready")
            | {"message": "GuestAgent is running and accepting new configurations."}
            if self.agent_ready
            else status("ProvisioningState/Unavailable", "Not Ready", "Warning")
            | {"message": "VM Agent is unresponsive."}
        )
        return {
            "platformUpdateDomain": 1,
            "platformFaultDomain": 1,
            "computerName": self.name,
            "osName": "Windows Server 2022 Datacenter" if self.os_type == "Windows" else "ubuntu",
            "osVersion": "10.0.20348" if self.os_type == "Windows" else "22.04",
            "vmAgent": {
                "vmAgentVersion": "2.7.41491.1102" if self.agent_ready else "Unknown",
                "statuses": [agent],
                "extensionHandlers": [
                    {
                        "type": f"{e.publisher}.{e.type}",
                        "typeHandlerVersion": e.version,
                        "status": status("ProvisioningState/succeeded", "Ready"),
                    }
                    for e in self.extensions.values()
                ],
            },
            "extensions": [
                {
                    "name": e.name,
                    **({"type": f"{e.publisher}.{e.type}"} if e.type else {}),  # optional
                    "typeHandlerVersion": e.version,
                    "statuses": [
                        status(
                            f"ProvisioningState/{e.provisioning_state.lower()}",
                            f"Provisioning {e.provisioning_state.lower()}",
                            "Info" if e.provisioning_state == "Succeeded" else "Error",
                        )
                        | {"message": f"Extension {e.name}: {e.provisioning_state}"}
                    ],
                }
                for e in self.extensions.values()
            ],
            "disks": [
                {
                    "name": f"{self.name}_OsDisk_1",
                    "statuses": [status("ProvisioningState/succeeded", "Provisioning succeeded")],
                }
            ],
            "hyperVGeneration": "V2",
            "isVMInStandbyPool": False,
            "statuses": [
                status("ProvisioningState/succeeded", "Provisioning succeeded"),
                status(f"PowerState/{self.power_state}", f"VM {self.power_state}"),
            ],
        }


@dataclass
class ProtectedItem:
    """An Azure Backup IaaS VM protected item; names follow the iaasvmcontainerv2 scheme."""

    vault: Vault
    vm: VirtualMachine
    health_status: str = "Passed"
    last_backup_status: str = "Completed"
    last_backup_time: datetime | None = None
    # The source VM as the vault records it, when not this VM's own id (a VM deleted and
    # re-created under its name and group is another resource to the vault).
    source_id: str | None = None

    @property
    def container_name(self) -> str:
        return f"IaasVMContainer;iaasvmcontainerv2;{self.vm.resource_group};{self.vm.name}"

    @property
    def name(self) -> str:
        return f"VM;iaasvmcontainerv2;{self.vm.resource_group};{self.vm.name}"

    @property
    def id(self) -> str:
        return (
            f"{self.vault.id}/backupFabrics/Azure/protectionContainers/{self.container_name}"
            f"/protectedItems/{self.name}"
        )

    def to_arm(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/"
            "protectedItems",
            "properties": {
                "protectedItemType": "Microsoft.Compute/virtualMachines",
                "backupManagementType": "AzureIaasVM",
                "workloadType": "VM",
                "containerName": self.container_name.split(";", 1)[1],
                "friendlyName": self.vm.name,
                "sourceResourceId": self.source_id or self.vm.id,
                "virtualMachineId": self.source_id or self.vm.id,
                "protectionState": "Protected",
                "protectionStatus": "Healthy",
                "healthStatus": self.health_status,
                "lastBackupStatus": self.last_backup_status,
                "lastBackupTime": iso(self.last_backup_time),
                "lastRecoveryPoint": iso(self.last_backup_time),
                "protectedItemDataId": str(int(stable_guid(self.id).replace("-", "")[:12], 16)),
                "policyId": f"{self.vault.id}/backupPolicies/DefaultPolicy",
                "policyName": "DefaultPolicy",
                "policyType": "V2",
            },
        }


@dataclass
class BackupJob:
    vault: Vault
    name: str
    item: ProtectedItem
    started: datetime
    polls_left: int
    operation: str = "Backup"
    status: str = "InProgress"
    ended: datetime | None = None
    error_details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.vault.id}/backupJobs/{self.name}"

    def to_arm(self) -> dict[str, Any]:
        running = self.status == "InProgress"
        end = self.ended or self.started
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.RecoveryServices/vaults/backupJobs",
            "properties": {
                "jobType": "AzureIaaSVMJob",
                "entityFriendlyName": self.item.vm.name,
                "backupManagementType": "AzureIaasVM",
                "operation": self.operation,
                "status": self.status,
                "startTime": iso(self.started),
                "endTime": iso(self.ended),
                "duration": f"PT{max((end - self.started).total_seconds(), 0.0):.1f}S",
                "activityId": stable_guid(self.name, "activity"),
                "actionsInfo": ["Cancellable"] if running else ["Retriable"],
                "errorDetails": [dict(e) for e in self.error_details],
                "virtualMachineVersion": "Compute",
                "containerName": self.item.container_name,
                "isUserTriggered": True,
                "extendedInfo": {
                    "propertyBag": {"VM Name": self.item.vm.name},
                    "tasksList": [
                        {"taskId": "Take Snapshot", "status": self.status},
                        {
                            "taskId": "Transfer data to vault",
                            "status": "NotStarted" if running else self.status,
                        },
                    ],
                    "dynamicErrorMessage": (
                        self.error_details[0]["errorString"] if self.error_details else None
                    ),
                },
            },
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vm": self.item.vm.name,
            "status": self.status,
            "error_codes": [e.get("errorTitle") for e in self.error_details],
        }


@dataclass
class RestorePoint:
    name: str
    time_created: datetime


@dataclass
class RestorePointCollection:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    source_vm_id: str
    restore_points: list[RestorePoint] = field(default_factory=list)
    provisioning_state: str = "Succeeded"

    @property
    def id(self) -> str:
        return provider_id(
            self.subscription_id,
            self.resource_group,
            f"Microsoft.Compute/restorePointCollections/{self.name}",
        )

    def to_arm(self, *, expand: bool = False) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "source": {"id": self.source_vm_id, "location": self.location},
            "instantAccess": True,
            "restorePointCollectionId": stable_guid(self.id),
            "provisioningState": self.provisioning_state,
        }
        if expand:
            properties["restorePoints"] = [
                {
                    "name": rp.name,
                    "id": f"{self.id}/restorePoints/{rp.name}",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "consistencyMode": "ApplicationConsistent",
                        "timeCreated": iso(rp.time_created),
                        "instantAccessDurationMinutes": 2880,
                    },
                }
                for rp in self.restore_points
            ]
        return {
            "name": self.name,
            "id": self.id,
            "type": "Microsoft.Compute/restorePointCollections",
            "location": self.location,
            "properties": properties,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "resource_group": self.resource_group,
            "source_vm_id": self.source_vm_id,
            "restore_points": [
                {"name": rp.name, "time_created": iso(rp.time_created)}
                for rp in self.restore_points
            ],
        }


@dataclass
class PrivateEndpoint:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    target_id: str
    group_id: str
    status: str = "Approved"
    ip_address: str = "10.10.1.4"
    fqdn: str = ""

    @property
    def id(self) -> str:
        return provider_id(
            self.subscription_id,
            self.resource_group,
            f"Microsoft.Network/privateEndpoints/{self.name}",
        )

    def to_arm(self) -> dict[str, Any]:
        subnet = provider_id(
            self.subscription_id,
            self.resource_group,
            "Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-private-endpoints",
        )
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Network/privateEndpoints",
            "location": self.location,
            "properties": {
                "provisioningState": "Succeeded",
                "subnet": {"id": subnet},
                "privateLinkServiceConnections": [
                    {
                        "id": f"{self.id}/privateLinkServiceConnections/{self.name}",
                        "name": self.name,
                        "properties": {
                            "provisioningState": "Succeeded",
                            "privateLinkServiceId": self.target_id,
                            "groupIds": [self.group_id],
                            "privateLinkServiceConnectionState": {
                                "status": self.status,
                                "description": f"{self.status} by the vault owner",
                                "actionsRequired": "None",
                            },
                        },
                    }
                ],
                "manualPrivateLinkServiceConnections": [],
                "customDnsConfigs": [{"fqdn": self.fqdn, "ipAddresses": [self.ip_address]}],
            },
        }


@dataclass
class VnetLink:
    name: str
    vnet_id: str
    registration_enabled: bool = False
    state: str = "Completed"


@dataclass
class PrivateDnsZone:
    subscription_id: str
    resource_group: str
    name: str
    links: list[VnetLink] = field(default_factory=list)
    a_records: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return provider_id(
            self.subscription_id,
            self.resource_group,
            f"Microsoft.Network/privateDnsZones/{self.name}",
        )

    def to_arm(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.Network/privateDnsZones",
            "location": "global",
            "etag": stable_guid(self.id, "etag"),
            "properties": {
                "numberOfRecordSets": len(self.a_records) + 1,
                "maxNumberOfRecordSets": 25000,
                "numberOfVirtualNetworkLinks": len(self.links),
                "maxNumberOfVirtualNetworkLinks": 1000,
                "provisioningState": "Succeeded",
            },
        }

    def link_arm(self, link: VnetLink) -> dict[str, Any]:
        return {
            "id": f"{self.id}/virtualNetworkLinks/{link.name}",
            "name": link.name,
            "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
            "location": "global",
            "etag": stable_guid(self.id, link.name),
            "properties": {
                "virtualNetwork": {"id": link.vnet_id},
                "registrationEnabled": link.registration_enabled,
                "virtualNetworkLinkState": link.state,
                "provisioningState": "Succeeded",
            },
        }

    def a_record_arm(self, name: str) -> dict[str, Any]:
        return {
            "id": f"{self.id}/A/{name}",
            "name": name,
            "type": "Microsoft.Network/privateDnsZones/A",
            "etag": stable_guid(self.id, "A", name),
            "properties": {
                "ttl": 3600,
                "fqdn": f"{name}.{self.name}.",
                "isAutoRegistered": False,
                "aRecords": [{"ipv4Address": ip} for ip in self.a_records[name]],
            },
        }


@dataclass
class KeyVault:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    tenant_id: str
    access_policies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return provider_id(
            self.subscription_id, self.resource_group, f"Microsoft.KeyVault/vaults/{self.name}"
        )

    def to_arm(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": self.location,
            "properties": {
                "tenantId": self.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "accessPolicies": [dict(p) for p in self.access_policies],
                "enableRbacAuthorization": False,
                "enabledForDiskEncryption": True,
                "vaultUri": f"https://{self.name}.vault.azure.net/",
                "provisioningState": "Succeeded",
            },
        }


@dataclass
class BackupOperation:
    """The operation an on-demand backup trigger answers with (202 + Azure-AsyncOperation):
    InProgress until the backup service has created the job, then Succeeded with its id."""

    name: str
    item: ProtectedItem
    started: datetime
    polls_left: int
    status: str = "InProgress"
    job: BackupJob | None = None
    ended: datetime | None = None
    error: dict[str, str] | None = None  # {"code", "message"} of a Failed operation

    def to_arm(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.name,
            "name": self.name,
            "status": self.status,
            "startTime": iso(self.started),
            "endTime": iso(self.ended),
        }
        if self.error is not None:
            body["error"] = dict(self.error)
        if self.job is not None:
            body["properties"] = {
                "objectType": "OperationStatusJobExtendedInfo",
                "jobId": self.job.name,
            }
        return body


@dataclass
class BackupRequest:
    """One accepted trigger-backup POST, as recorded for `to_state()`."""

    item: ProtectedItem
    time: datetime
    operation: BackupOperation

    def to_state(self) -> dict[str, Any]:
        return {
            "vm": self.item.vm.name,
            "vm_id": self.item.vm.id,
            "vault": self.item.vault.name,
            "protected_item": self.item.name,
            "time": iso(self.time),
            "job_id": self.operation.job.name if self.operation.job else None,
        }
