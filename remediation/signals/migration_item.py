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
    is_arm_resource,
    lazy,
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

    @lazy
    def health(self) -> str | None:
        """None | Normal | Warning | Critical (`replicationHealth` on protected items)."""
        return self._str("health") or self._str("replicationHealth")

    @lazy
    def health_errors(self) -> list[HealthError]:
        return self._wrap_list(HealthError, "healthErrors")

    migration_state = str_field("migrationState")
    migration_state_description = str_field("migrationStateDescription")
    replication_status = str_field("replicationStatus")
    allowed_operations = str_list_field("allowedOperations")

    @property
    def current_job(self) -> CurrentJob | None:
        return self._wrap(CurrentJob, "currentJob")

    @lazy
    def provider_specific_details(self) -> ProviderSpecificDetails | None:
        return self._wrap(ProviderSpecificDetails, "providerSpecificDetails")


class MigrationItem(ArmResource):
    """One `replicationMigrationItems` resource; `signals()` gives one Signal per health error."""

    @lazy
    def properties(self) -> MigrationItemProperties:
        return self._object(MigrationItemProperties, "properties")

    @lazy
    def arm_id(self) -> ArmId | None:
        return ArmId.parse(self.id)

    @lazy
    def scope(self) -> str | None:
        """The protection container (under the appliance's fabric): a storm's grouping key."""
        arm = self.arm_id
        if not arm:
            return None
        return arm.prefix_through("replicationProtectionContainers") or arm.prefix_through(
            "replicationFabrics"
        )

    @lazy
    def vm(self) -> str | None:
        return self.properties.machine_name or self.name

    def _base(self) -> dict[str, Any]:
        """The fields every signal of this item shares; each call gives its own copy."""
        base = dict(self._shared_fields)
        base["extra"] = dict(base["extra"])
        return base

    @lazy
    def _shared_fields(self) -> dict[str, Any]:
        props = self.properties
        details = props.provider_specific_details
        extra = {
            "item_name": self.name,
            "health": props.health,
            "migration_state": props.migration_state,
            "allowed_operations": props.allowed_operations,
            "instance_type": details.instance_type if details else None,
        }
        return {
            "vm": self.vm,
            "resource_id": self.id,
            "scope": self.scope,
            "service": MIGRATE,
            "status": props.health,
            "extra": {k: v for k, v in extra.items() if v is not None},
        }

    def _error_signal(self, error: HealthError) -> Signal:
        base = self._base()
        base["extra"].update(error.details())
        return make_signal(
            SourceKind.MIGRATION_ITEM,
            error.message or f"Health error {error.error_code} on {self.vm}",
            error.codes,
            time=error.creation_time_utc,
            source_id=error_identity(self.id or self.name, error),
            error_level=error.error_level,
            **base,
        )

    def _state_signal(self) -> Signal:
        props = self.properties
        health = props.health or "None"
        resolved = health.lower() in HEALTHY
        state = props.migration_state or "unknown"
        failed_state = [state] if state.endswith("Failed") else []
        verdict = "healthy" if resolved else f"health {health}"
        return make_signal(
            SourceKind.MIGRATION_ITEM,
            f"Replication of {self.vm} is {verdict} (migration state {state}).",
            failed_state,
            resolved=resolved and not failed_state,
            source_id=f"{(self.id or self.name or '').lower()}|{health.lower()}|{state.lower()}",
            **self._base(),
        )

    def signals(self) -> list[Signal]:
        """One per health error, most severe first; a single state signal when there are none."""
        errors = by_severity(self.properties.health_errors)
        return [self._error_signal(e) for e in errors] or [self._state_signal()]


def matches(data: Mapping[str, Any]) -> bool:
    return is_arm_resource(
        data,
        "/replicationmigrationitems",
        ("healthErrors", "providerSpecificDetails", "migrationState"),
    )


def signals(data: Mapping[str, Any]) -> list[Signal]:
    return MigrationItem(data).signals()
