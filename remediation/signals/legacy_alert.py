"""Azure Monitor alerts posted by an action group whose common alert schema is off: the metric
alert schema (`AzureMonitorMetricAlert`), the activity log schema
(`Microsoft.Insights/activityLogs`) and the log alert webhook (Log Analytics rows at the top
level, or `Microsoft.Insights/LogAlert` for Application Insights).

Those about Azure Backup or Azure Migrate are parsed (the resource, the provider, the log
table or the rows say so); any other is refused with a reason that says how to send it in the
common alert schema, which is what the webhook expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediation.signals import service as services
from remediation.signals.arm_id import ArmId
from remediation.signals.build import make_signal
from remediation.signals.common_alert import SearchResultTable, signal_from_row
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.wrapper import DictWrapper, str_field, str_list_field, time_field

METRIC_SCHEMA = "azuremonitormetricalert"
ACTIVITY_SCHEMA = "microsoft.insights/activitylogs"
LOG_SCHEMA = "microsoft.insights/logalert"
RESOLVED = ("resolved", "deactivated")
ENABLE_COMMON_SCHEMA = (
    "this Azure Monitor {kind} alert was sent without the common alert schema and is not "
    "about Azure Backup or Azure Migrate; enable the common alert schema on the action group "
    "(Monitor > Alerts > Action groups > the group > Actions > edit the webhook or function "
    "> 'Enable the common alert schema') so that the bot can read it and record it"
)


def _not_ours(kind: str) -> SignalError:
    return SignalError(ENABLE_COMMON_SCHEMA.format(kind=kind))


class MetricAlertContext(DictWrapper):
    id = str_field("id")
    name = str_field("name")
    description = str_field("description")
    resource_id = str_field("resourceId")
    resource_type = str_field("resourceType")
    resource_name = str_field("resourceName")
    timestamp = time_field("timestamp")


class MetricAlert(DictWrapper):
    """`{"schemaId": "AzureMonitorMetricAlert", "data": {status, context, properties}}`."""

    @property
    def status(self) -> str | None:
        return self._str("data", "status")

    @property
    def context(self) -> MetricAlertContext:
        return MetricAlertContext(self._dict("data", "context") or {}, "$.data.context")

    def signals(self) -> list[Signal]:
        ctx = self.context
        resource_id = ctx.resource_id
        service = services.of_resource(resource_id or "")
        if service is None:
            raise _not_ours("metric")
        arm = ArmId.parse(resource_id)
        name, event_id, timestamp, status = ctx.name, ctx.id, ctx.timestamp, self.status
        return [
            make_signal(
                SourceKind.LEGACY_ALERT,
                ctx.description or f"Metric alert {name or ''} on {resource_id}",
                resource_id=resource_id,
                vm=arm.get("virtualMachines") if arm else None,
                vault_id=arm.vault_id if arm else None,
                time=timestamp,
                resolved=(status or "").lower() in RESOLVED,
                source_id=f"{event_id}|{timestamp}" if event_id else None,
                service=service,
                status=status,
                extra={"alert_rule": name, "schema": "AzureMonitorMetricAlert"},
            )
        ]


class ActivityLogEvent(DictWrapper):
    resource_id = str_field("resourceId")
    resource_provider_name = str_field("resourceProviderName")
    operation_name = str_field("operationName")
    status = str_field("status")
    sub_status = str_field("subStatus")
    description = str_field("description")
    event_data_id = str_field("eventDataId")
    event_timestamp = time_field("eventTimestamp")

    @property
    def status_message(self) -> str | None:
        props = self._dict("properties") or {}
        value = props.get("statusMessage")
        return value if isinstance(value, str) else None


class ActivityLogAlert(DictWrapper):
    """`{"schemaId": "Microsoft.Insights/activityLogs", "data": {status, context.activityLog}}`."""

    @property
    def event(self) -> ActivityLogEvent:
        value = self._dict("data", "context", "activityLog") or {}
        return ActivityLogEvent(value, "$.data.context.activityLog")

    def signals(self) -> list[Signal]:
        event = self.event
        resource_id = event.resource_id
        service = services.of_resource(resource_id or "") or services.of_provider(
            event.resource_provider_name
        )
        if service is None:
            raise _not_ours("activity log")
        arm = ArmId.parse(resource_id)
        operation, status = event.operation_name, event.status
        text = (
            event.status_message
            or event.description
            or f"{operation or 'Operation'} {status or ''} on {resource_id}"
        )
        return [
            make_signal(
                SourceKind.LEGACY_ALERT,
                text,
                resource_id=resource_id,
                vm=arm.get("virtualMachines") if arm else None,
                time=event.event_timestamp,
                source_id=event.event_data_id,
                service=service,
                status=status,
                extra={"operation": operation, "schema": ACTIVITY_SCHEMA},
            )
        ]


class LogAlert(DictWrapper):
    """The log alert webhook: `AlertRuleName`, `SearchQuery`, `SearchResult` (or
    `SearchResults`) tables, at the top level or under `data` for Application Insights."""

    case_insensitive = True
    alert_rule_name = str_field("AlertRuleName")
    search_query = str_field("SearchQuery")
    description = str_field("Description")
    workspace_id = str_field("WorkspaceId")
    affected_configuration_items = str_list_field("AffectedConfigurationItems")
    end_time = time_field("SearchIntervalEndtimeUtc")

    @property
    def tables(self) -> list[SearchResultTable]:
        key = "SearchResult" if self._get("SearchResult") is not None else "SearchResults"
        return self._wrap_list(SearchResultTable, key, "tables")

    def signals(self) -> list[Signal]:
        records = [r for table in self.tables for r in table.records()]
        service = services.of_query(self.search_query or "")
        rule, end_time = self.alert_rule_name, self.end_time
        base = make_signal(
            SourceKind.LEGACY_ALERT,
            self.description or f"Log alert {rule or ''}",
            time=end_time,
            source_id=f"{rule}|{self.workspace_id}|{end_time}",
            service=service,
            extra={"alert_rule": rule, "schema": "log alert webhook"},
        )
        rows = [signal_from_row(base, record) for record in records]
        found = [row for row in rows if row is not None]
        if found:
            return found
        if service is None:
            raise _not_ours("log search")
        return [base]


def _schema(data: Mapping[str, Any]) -> str:
    value = data.get("schemaId")
    return value.lower() if isinstance(value, str) else ""


def _log_alert_body(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    body = data.get("data") if _schema(data) == LOG_SCHEMA else data
    if isinstance(body, Mapping) and "AlertRuleName" in body and "SearchQuery" in body:
        return body
    return None


def matches(data: Mapping[str, Any]) -> bool:
    return _schema(data) in (METRIC_SCHEMA, ACTIVITY_SCHEMA) or _log_alert_body(data) is not None


def signals(data: Mapping[str, Any]) -> list[Signal]:
    schema = _schema(data)
    if schema == METRIC_SCHEMA:
        return MetricAlert(data).signals()
    if schema == ACTIVITY_SCHEMA:
        return ActivityLogAlert(data).signals()
    body = _log_alert_body(data)
    if body is None:
        raise SignalError("not an Azure Monitor alert")
    return LogAlert(body, "$.data" if body is not data else "$").signals()
