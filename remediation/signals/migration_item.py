"""Azure Migrate agentless VMware replication health, as polled from `replicationMigrationItems`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediation.signals.arm_id import ArmId
from remediation.signals.build import make_signal
from remediation.signals.health_error import HealthError, by_severity, error_identity
from remediation.signals.model import Signal, SourceKind
from remediation.signals.service import MIGRATE
from remediation.signals.wrapper import (
    ArmResource,
    DictWrapper,
    str_field,
    str_list_field,
    text_field,
)

HEALTHY = ("normal", "none")


class ProviderSpecificDetails(DictWrapper):
    instance_type = str_field("instanceType", '"VMwareCbt" for agentless VMware.')
    resync_required = text_field("resyncRequired")
    resync_state = str_field("resyncState")


class CurrentJob(DictWrapper):
    job_name = str_field("jobName")
    job_id = str_field("jobId")


class MigrationItemProperties(DictWrapper):
    machine_name = str_field("machineName")
    migration_state = str_field("migrationState")
    migration_state_description = str_field("migrationStateDescription")
    replication_status = str_field("replicationStatus")
    allowed_operations = str_list_field("allowedOperations")

    @property
    def health(self) -> str | None:
        """None | Normal | Warning | Critical (`replicationHealth` on protected items)."""
        return self._str("health") or self._str("replicationHealth")

    @property
    def health_errors(self) -> list[HealthError]:
        return self._wrap_list(HealthError, "healthErrors")

    @property
    def current_job(self) -> CurrentJob | None:
        return self._wrap(CurrentJob, "currentJob")

    @property
    def provider_specific_details(self) -> ProviderSpecificDetails | None:
        return self._wrap(ProviderSpecificDetails, "providerSpecificDetails")


class MigrationItem(ArmResource):
    """One `replicationMigrationItems` resource; `signals()` gives one Signal per health error."""

    @property
    def properties(self) -> MigrationItemProperties:
        return self._properties(MigrationItemProperties)

    def signals(self) -> list[Signal]:
        """One per health error, most severe first; a single state signal when there are none."""
        props = self.properties
        errors = by_severity(props.health_errors)
        item_id, name = self.id, self.name
        vm = props.machine_name or name
        health, state = props.health, props.migration_state
        details = props.provider_specific_details
        extra = {
            "item_name": name,
            "health": health,
            "migration_state": state,
            "allowed_operations": props.allowed_operations,
            "instance_type": details.instance_type if details else None,
        }
        extra = {k: v for k, v in extra.items() if v is not None}
        arm = ArmId.parse(item_id)
        # The protection container (under the appliance's fabric): a storm's grouping key.
        scope = (
            arm.prefix_through("replicationProtectionContainers")
            or arm.prefix_through("replicationFabrics")
            if arm
            else None
        )
        shared = {"vm": vm, "resource_id": item_id, "scope": scope, "service": MIGRATE}
        if errors:
            return [
                make_signal(
                    SourceKind.MIGRATION_ITEM,
                    error.message or f"Health error {error.code} on {vm}",
                    error.codes,
                    time=error.time,
                    source_id=error_identity(item_id or name, error),
                    status=health,
                    error_level=error.level,
                    extra={**extra, **error.details},
                    **shared,
                )
                for error in errors
            ]
        shown = health or "None"
        resolved = shown.lower() in HEALTHY
        state = state or "unknown"
        failed_state = [state] if state.endswith("Failed") else []
        verdict = "healthy" if resolved else f"health {shown}"
        return [
            make_signal(
                SourceKind.MIGRATION_ITEM,
                f"Replication of {vm} is {verdict} (migration state {state}).",
                failed_state,
                resolved=resolved and not failed_state,
                source_id=recovery_id(item_id or name or "")
                if resolved and not failed_state
                else f"{(item_id or name or '').lower()}|{shown.lower()}|{state.lower()}",
                status=health,
                extra=extra,
                **shared,
            )
        ]


def recovery_id(item: str) -> str:
    """The source id of an item's healthy snapshot, whatever its state: one per item, so a new
    failure of the item can forget it (`recovery_key`) and its next recovery is read again."""
    return f"{item.lower()}|healthy"


def recovery_key(item_id: str) -> str:
    """The dedup key the healthy snapshot of the migration item `item_id` is recorded under."""
    return make_signal(
        SourceKind.MIGRATION_ITEM, "", [], resolved=True, source_id=recovery_id(item_id),
        resource_id=item_id,
    ).dedup_key  # fmt: skip


def signals(data: Mapping[str, Any]) -> list[Signal]:
    return MigrationItem(data).signals()
