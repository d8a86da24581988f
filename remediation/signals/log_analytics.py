"""Log Analytics rows (column -> value) from the resource-specific Backup and Site Recovery
tables: AddonAzureBackupJobs and ASRReplicatedItems."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from remediation.signals.arm_id import ArmId
from remediation.signals.build import make_signal
from remediation.signals.health_error import HealthError, by_severity, error_identity
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.service import BACKUP, MIGRATE
from remediation.signals.wrapper import (
    DictWrapper,
    str_field,
    text_field,
    time_field,
    type_name,
)

NO_FAILURE = ("", "success", "none", "n/a")
MAX_HEALTH_ERRORS_JSON = 256 * 1024
_UNHEALTHY_STATUSES = ("critical", "warning", "error", "failed")


class BackupJobRow(DictWrapper):
    """One AddonAzureBackupJobs record."""

    job_unique_id = str_field("JobUniqueId")
    job_status = str_field("JobStatus")
    job_failure_code = text_field("JobFailureCode")
    job_operation = str_field("JobOperation")
    backup_item_friendly_name = str_field("BackupItemFriendlyName")
    datasource_friendly_name = str_field("DatasourceFriendlyName")
    datasource_resource_id = str_field("DatasourceResourceId")
    vault_name = str_field("VaultName")

    @property
    def resource_id(self) -> str | None:
        """The vault's ARM id in resource-specific tables (`ResourceId`, else `_ResourceId`)."""
        return self._str("ResourceId") or self._str("_ResourceId")

    @property
    def subscription_id(self) -> str | None:
        return self._str("SubscriptionId") or self._str("_SubscriptionId")

    resource_group_name = str_field("ResourceGroupName")
    job_start_date_time = time_field("JobStartDateTime")
    time_generated = time_field("TimeGenerated")

    @property
    def failure_code(self) -> str | None:
        """JobFailureCode unless it says the job did not fail ("Success")."""
        code = (self.job_failure_code or "").strip()
        return None if code.lower() in NO_FAILURE else code

    def to_signal(self) -> Signal:
        vm = self.backup_item_friendly_name or self.datasource_friendly_name
        status = self.job_status or "unknown"
        code = self.failure_code
        text = f"{self.job_operation or 'Backup'} job {status} for {vm or 'an item'}"
        vault_arm = ArmId.parse(self.resource_id)
        vault_id = vault_arm.vault_id if vault_arm else None
        job_id = self.job_unique_id
        return make_signal(
            SourceKind.LOG_ANALYTICS_BACKUP_JOB,
            f"{text}: {code}." if code else f"{text}.",
            [code] if code else [],
            vm=vm,
            resource_id=self.datasource_resource_id,
            vault_id=vault_id,
            vault=self.vault_name,
            subscription_id=self.subscription_id,
            scope=vault_id,
            job_id=job_id,
            time=self.time_generated or self.job_start_date_time,
            resolved=status.lower() == "completed" and not code,
            source_id=job_id,
            service=BACKUP,
            status=self.job_status,
            extra={"status": status, "operation": self.job_operation},
        )


class ReplicatedItemRow(DictWrapper):
    """One ASRReplicatedItems record (written once a day per item)."""

    replicated_item_id = str_field("ReplicatedItemId")
    replicated_item_friendly_name = str_field("ReplicatedItemFriendlyName")
    datasource_friendly_name = str_field("DatasourceFriendlyName")
    source_resource_id = str_field("SourceResourceId")
    replication_status = str_field("ReplicationStatus")
    failover_readiness = str_field("FailoverReadiness")
    vault_name = str_field("VaultName")

    @property
    def subscription_id(self) -> str | None:
        return self._str("_SubscriptionId")

    time_generated = time_field("TimeGenerated")

    @property
    def replication_health_errors_raw(self) -> str | list[Any] | None:
        value = self._value("ReplicationHealthErrors")
        if value is None or isinstance(value, str | list):
            return value
        where = self._where(("ReplicationHealthErrors",))
        raise SignalError(f"{where}: expected a JSON string or array, got {type_name(value)}")

    @property
    def replication_health_errors(self) -> list[HealthError]:
        return self._health_errors()[0]

    def _health_errors(self) -> tuple[list[HealthError], str | None]:
        """The column's errors (a JSON string holding a list or one object, or the array as
        sent), and its text when it is not JSON (some exports flatten it to a sentence)."""
        raw = self.replication_health_errors_raw
        decoded = _decode_json(raw) if isinstance(raw, str) else raw
        plain = raw if isinstance(raw, str) and decoded is None and raw.strip() else None
        if isinstance(decoded, Mapping):
            decoded = [decoded]
        if not isinstance(decoded, list):
            return [], plain
        keys = ("ReplicationHealthErrors",)
        return [HealthError(item, self._child(keys, i)) for i, item in enumerate(decoded)], plain

    def signals(self) -> list[Signal]:
        """One per health error, most severe first; else one status signal."""
        item_id = self.replicated_item_id
        vm = self.replicated_item_friendly_name or self.datasource_friendly_name
        status = self.replication_status
        arm = ArmId.parse(item_id)
        common = {
            "vm": vm,
            "resource_id": item_id,
            "vault": self.vault_name,
            "subscription_id": self.subscription_id,
            "scope": arm.prefix_through("replicationProtectionContainers") if arm else None,
            "service": MIGRATE,
            "status": status,
        }
        extra = {"replication_status": status}
        item = (item_id or vm or "").lower()
        errors, text = self._health_errors()
        if errors:
            return [
                make_signal(
                    SourceKind.LOG_ANALYTICS_REPLICATED_ITEM,
                    error.message or f"Health error {error.code}",
                    error.codes,
                    time=error.time or self.time_generated,
                    source_id=error_identity(item, error),
                    error_level=error.level,
                    extra={**extra, **error.details},
                    **common,
                )
                for error in by_severity(errors)
            ]
        shown = status or "unknown"
        unhealthy = bool(text) or shown.lower() in _UNHEALTHY_STATUSES
        return [
            make_signal(
                SourceKind.LOG_ANALYTICS_REPLICATED_ITEM,
                text or f"Replication status of {vm or 'an item'} is {shown}.",
                time=self.time_generated,
                resolved=not unhealthy,
                source_id=f"{item}|{shown.lower()}",
                extra=extra,
                **common,
            )
        ]


def _decode_json(text: str) -> Any:
    if len(text) > MAX_HEALTH_ERRORS_JSON:
        raise SignalError(f"ReplicationHealthErrors is larger than {MAX_HEALTH_ERRORS_JSON} bytes")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def is_backup_job_row(data: Mapping[str, Any]) -> bool:
    return "JobFailureCode" in data or ("JobUniqueId" in data and "JobStatus" in data)


def is_replicated_item_row(data: Mapping[str, Any]) -> bool:
    return "ReplicationHealthErrors" in data or (
        "ReplicatedItemId" in data and "ReplicationStatus" in data
    )


def backup_job_signals(data: Mapping[str, Any]) -> list[Signal]:
    return [BackupJobRow(data).to_signal()]


def replicated_item_signals(data: Mapping[str, Any]) -> list[Signal]:
    return ReplicatedItemRow(data).signals()
