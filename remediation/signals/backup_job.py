"""Azure Backup job resources (`GET .../vaults/{vault}/backupJobs/{jobName}`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediation.signals.arm_id import ArmId
from remediation.signals.backup_container import azure_vm_id
from remediation.signals.build import make_signal
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.service import BACKUP
from remediation.signals.text import find_codes, join_text, merge_codes
from remediation.signals.wrapper import (
    ArmResource,
    DictWrapper,
    str_field,
    str_list_field,
    time_field,
    type_name,
)

RESOLVED_STATUSES = ("completed",)


class BackupJobErrorInfo(DictWrapper):
    """AzureIaaSVMErrorInfo: the REST error code is an integer, unlike the documented names."""

    @property
    def error_code(self) -> int | str | None:
        value = self._value("errorCode")
        if value is None or (isinstance(value, int | str) and not isinstance(value, bool)):
            return value
        where = self._where(("errorCode",))
        raise SignalError(f"{where}: expected an integer, got {type_name(value)}")

    error_string = str_field("errorString")
    error_title = str_field("errorTitle")
    recommendations = str_list_field("recommendations")

    @property
    def text(self) -> str:
        return join_text(self.error_title, self.error_string)


class BackupJobExtendedInfo(DictWrapper):
    dynamic_error_message = str_field("dynamicErrorMessage")

    @property
    def property_bag(self) -> Mapping[str, Any]:
        return self._dict("propertyBag") or {}

    @property
    def progress_percentage(self) -> float | None:
        return self._number("progressPercentage")


class BackupJobProperties(DictWrapper):
    job_type = str_field("jobType")
    entity_friendly_name = str_field("entityFriendlyName", "The VM name for IaaS VM jobs.")
    backup_management_type = str_field("backupManagementType")
    operation = str_field("operation")
    status = str_field("status")
    start_time = time_field("startTime")
    end_time = time_field("endTime")
    activity_id = str_field("activityId")
    duration = str_field("duration")
    container_name = str_field("containerName")

    @property
    def error_details(self) -> list[BackupJobErrorInfo]:
        return self._wrap_list(BackupJobErrorInfo, "errorDetails")

    @property
    def extended_info(self) -> BackupJobExtendedInfo | None:
        return self._wrap(BackupJobExtendedInfo, "extendedInfo")


class BackupJob(ArmResource):
    """A Backup job; its `name` is the job GUID (the alert's extendedInfo.jobId, LA's
    JobUniqueId)."""

    @property
    def properties(self) -> BackupJobProperties:
        return self._properties(BackupJobProperties)

    def to_signal(self) -> Signal:
        """The errors' titles and texts are the message (else a summary of the job), their
        integer codes as text then the code names the texts hold are the codes."""
        props = self.properties
        errors = [(e.error_code, e.text, e.recommendations) for e in props.error_details]
        info = props.extended_info
        status, operation = props.status, props.operation
        vm, name = props.entity_friendly_name, self.name
        message = join_text(
            *(text for _, text, _ in errors), info.dynamic_error_message if info else None
        ) or (f"{operation or 'Backup'} job {status or 'unknown'} for {vm or name}.")
        codes = merge_codes(
            [str(code) for code, _, _ in errors if code is not None], find_codes(message)
        )
        recommendations = [r for _, _, found in errors for r in found]
        job_id = self.id
        arm = ArmId.parse(job_id)
        vault_id = arm.vault_id if arm else None
        # The VM is in the vault's subscription (see backup_container); only a vault job has one.
        subscription = arm.subscription_id if arm and vault_id else None
        vm_id = azure_vm_id(props.container_name, subscription)
        extra = {
            "status": status,
            "operation": operation,
            "job_type": props.job_type,
            "recommendations": recommendations or None,
        }
        return make_signal(
            SourceKind.BACKUP_JOB,
            message,
            codes,
            vm=vm,
            resource_id=vm_id,
            vault_id=vault_id,
            scope=vault_id,
            job_id=name or (arm.name if arm else None),
            time=props.end_time or props.start_time,
            resolved=(status or "").lower() in RESOLVED_STATUSES,
            source_id=(job_id or name or "").lower() or None,
            service=BACKUP,
            status=status,
            extra={k: v for k, v in extra.items() if v},
        )


def signals(data: Mapping[str, Any]) -> list[Signal]:
    return [BackupJob(data).to_signal()]
