"""Site Recovery replication events and jobs, as `replicationEvents` and `replicationJobs`
return them (alone or in a list response). They share health errors and fields with migration
items, but are neither: an event's name is an event id and a job's target may be a recovery
plan, so the VM comes from the fields that name it, never from the resource name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediation.signals.build import make_signal
from remediation.signals.health_error import HealthError, by_severity, error_identity
from remediation.signals.model import Signal, SourceKind
from remediation.signals.service import MIGRATE
from remediation.signals.text import join_text, merge_codes
from remediation.signals.wrapper import (
    ArmResource,
    DictWrapper,
    str_field,
    text_field,
    time_field,
)

HEALTHY_SEVERITIES = ("ok", "none", "info", "information", "informational")
SUCCEEDED = ("succeeded",)
# Job targets that are a machine (the others are plans, policies, fabrics, servers...).
_MACHINE_TARGETS = ("protectionentity", "replicationprotecteditem", "migrationitem", "vm")


class ReplicationEventProperties(DictWrapper):
    event_code = text_field("eventCode")
    description = str_field("description")
    event_type = str_field("eventType", '"VmHealth" and others.')
    affected_object_friendly_name = str_field("affectedObjectFriendlyName")
    severity = str_field("severity", '"OK", "Warning", "Critical"...')
    time_of_occurrence = time_field("timeOfOccurrence")

    @property
    def health_errors(self) -> list[HealthError]:
        return self._wrap_list(HealthError, "healthErrors")


class ReplicationEvent(ArmResource):
    """One `replicationEvents` resource: one Signal per health error, else one for the event."""

    @property
    def properties(self) -> ReplicationEventProperties:
        return self._properties(ReplicationEventProperties)

    def signals(self) -> list[Signal]:
        props = self.properties
        severity, event_type = props.severity, props.event_type
        common: dict[str, Any] = {
            "vm": props.affected_object_friendly_name,
            "service": MIGRATE,
            "status": severity,
            "time": props.time_of_occurrence,
        }
        extra = {"event_type": event_type, "event_code": props.event_code}
        errors = by_severity(props.health_errors)
        identity = self.id or self.name
        if errors:
            return [
                make_signal(
                    SourceKind.REPLICATION_EVENT,
                    error.message or f"Health error {error.code}",
                    error.codes,
                    source_id=error_identity(identity, error),
                    error_level=error.level,
                    extra={**extra, **error.details},
                    **common,
                )
                for error in errors
            ]
        what = props.description or f"Replication event {event_type or ''}".strip()
        return [
            make_signal(
                SourceKind.REPLICATION_EVENT,
                what,
                resolved=(severity or "").lower() in HEALTHY_SEVERITIES,
                source_id=(identity or "").lower() or None,
                extra=extra,
                **common,
            )
        ]


class JobError(DictWrapper):
    """JobErrorDetails: a service error and/or a provider error (whose code is an integer)."""

    @property
    def service_error(self) -> Mapping[str, Any]:
        return self._dict("serviceErrorDetails") or {}

    @property
    def provider_error(self) -> Mapping[str, Any]:
        return self._dict("providerErrorDetails") or {}

    error_level = str_field("errorLevel")

    def text_and_codes(self) -> tuple[str, list[str]]:
        """The service's and the provider's messages, and their codes."""
        service, provider = self.service_error, self.provider_error
        text = join_text(_str(service, "message"), _str(provider, "errorMessage"))
        found = [service.get("code"), provider.get("errorCode")]
        return text, [str(code) for code in found if isinstance(code, str | int) and code != ""]


class ReplicationJobProperties(DictWrapper):
    scenario_name = str_field("scenarioName")
    friendly_name = str_field("friendlyName")
    state = str_field("state", '"InProgress", "Succeeded", "Failed", "Cancelled"...')
    state_description = str_field("stateDescription")
    target_object_name = str_field("targetObjectName")
    target_instance_type = str_field("targetInstanceType")
    start_time = time_field("startTime")
    end_time = time_field("endTime")

    @property
    def errors(self) -> list[JobError]:
        return self._wrap_list(JobError, "errors")


class ReplicationJob(ArmResource):
    """One `replicationJobs` resource: one Signal for the job, its errors as the message."""

    @property
    def properties(self) -> ReplicationJobProperties:
        return self._properties(ReplicationJobProperties)

    def signals(self) -> list[Signal]:
        props = self.properties
        target_type, scenario = props.target_instance_type, props.scenario_name
        on_machine = any(kind in (target_type or "").lower() for kind in _MACHINE_TARGETS)
        state, target = props.state, props.target_object_name
        summary = (
            f"Site Recovery job {props.friendly_name or scenario or self.name} "
            f"{state or 'unknown'} ({props.state_description or 'no description'}) "
            f"for {target or 'an unnamed target'}."
        )
        errors = props.errors
        found = [error.text_and_codes() for error in errors]
        return [
            make_signal(
                SourceKind.REPLICATION_JOB,
                join_text(*(text for text, _ in found)) or summary,
                merge_codes(*(codes for _, codes in found)),
                vm=target if on_machine else None,
                time=props.end_time or props.start_time,
                resolved=(state or "unknown").lower() in SUCCEEDED,
                source_id=(self.id or self.name or "").lower() or None,
                service=MIGRATE,
                status=state,
                error_level=next((e.error_level for e in errors if e.error_level), None),
                extra={"scenario": scenario, "target_type": target_type},
            )
        ]


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def event_signals(data: Mapping[str, Any]) -> list[Signal]:
    return ReplicationEvent(data).signals()


def job_signals(data: Mapping[str, Any]) -> list[Signal]:
    return ReplicationJob(data).signals()
