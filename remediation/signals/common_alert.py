"""Azure Monitor alerts in the common alert schema, as an action group's webhook delivers them:
Azure Backup built-in alerts, log search alerts (v1 with rows, v2 with dimensions) and any other
alert (metric, activity log), fired or resolved."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from remediation.signals import log_analytics
from remediation.signals import service as services
from remediation.signals.arm_id import ArmId
from remediation.signals.build import make_signal
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.text import aka_ms_codes, find_codes, merge_codes
from remediation.signals.wrapper import (
    DictWrapper,
    int_field,
    str_field,
    str_list_field,
    time_field,
)
from remediation.textnorm import memo

SCHEMA_ID = "azureMonitorCommonAlertSchema"
BUILT_IN_SERVICES = ("azure backup", "azure site recovery")
MAX_ROWS = 500
_ORIGIN_SUFFIX = re.compile(r"(?<=\d)([a-z][a-z0-9]{5,})$")
_VM_DIMENSIONS = (
    *("vm", "vmname", "virtualmachine", "machinename", "computer", "backupitemfriendlyname"),
    *("datasourcefriendlyname", "replicateditemfriendlyname", "entityfriendlyname"),
)
_CODE_DIMENSIONS = ("jobfailurecode", "errorcode", "failurecode", "code")
_VAULT_DIMENSIONS = ("vaultname", "vault")
_COMPUTER_COLUMNS = ("Computer", "computer", "_ResourceId", "ResourceId")
_WORKSPACES = "microsoft.operationalinsights/workspaces"


class _CaseInsensitive(DictWrapper):
    """Alert keys vary in case between docs and real payloads (alertRuleID vs alertRuleId)."""

    case_insensitive = True


class AlertEssentials(_CaseInsensitive):
    alert_id = str_field("alertId")
    alert_rule = str_field("alertRule")
    alert_rule_id = str_field("alertRuleId")
    severity = str_field("severity")
    signal_type = str_field("signalType")
    monitor_condition = str_field("monitorCondition", '"Fired" or "Resolved".')
    monitoring_service = str_field("monitoringService")
    alert_target_ids = str_list_field("alertTargetIDs")
    configuration_items = str_list_field("configurationItems")
    origin_alert_id = str_field("originAlertId")
    fired_date_time = time_field("firedDateTime")
    resolved_date_time = time_field("resolvedDateTime")
    description = str_field("description")
    target_resource_type = str_field("targetResourceType")
    target_resource_group = str_field("targetResourceGroup")
    investigation_link = str_field("investigationLink")


class BackupExtendedInfo(_CaseInsensitive):
    job_id = str_field("jobId")
    possible_causes = str_field("possibleCauses")
    recommended_actions = str_field("recommendedActions")
    occurrence_count = int_field("occurrenceCount")


class SearchResultTable(_CaseInsensitive):
    name = str_field("name")

    @property
    def column_names(self) -> list[str]:
        columns = self._list("columns")
        names = []
        for index, column in enumerate(columns):
            if not isinstance(column, Mapping) or not isinstance(column.get("name"), str):
                raise SignalError(f"{self._where(('columns',))}[{index}]: expected a named column")
            names.append(column["name"])
        return names

    @property
    def rows(self) -> list[list[Any]]:
        rows = self._list("rows")
        for index, row in enumerate(rows):
            if not isinstance(row, list):
                raise SignalError(f"{self._where(('rows',))}[{index}]: expected an array")
        return rows

    def records(self) -> list[dict[str, Any]]:
        """Rows as column -> value dicts, like a Log Analytics query result."""
        names = self.column_names
        return [dict(zip(names, row, strict=False)) for row in self.rows[:MAX_ROWS]]


class AlertCondition(_CaseInsensitive):
    """One `condition.allOf[]` criterion of a metric or log search v2 alert."""

    search_query = str_field("searchQuery")
    metric_name = str_field("metricName")

    @property
    def metric_value(self) -> float | None:
        return self._number("metricValue")

    @property
    def dimensions(self) -> dict[str, str]:
        """name -> value, names as sent."""
        result = {}
        for index, item in enumerate(self._list("dimensions")):
            dimension = _CaseInsensitive(item, self._child(("dimensions",), index))
            name, value = dimension._str("name"), dimension._text("value")
            if name and value is not None:
                result[name] = value
        return result


class AlertContext(_CaseInsensitive):
    """alertContext: its shape depends on the monitoring service; all are read from here."""

    linked_resource_id = str_field("linkedResourceId")
    linked_resource_name = str_field("linkedResourceName")
    protected_item_id = str_field("protectedItemId")
    source_type = str_field("sourceType")
    category = str_field("category")
    condition_type = str_field("conditionType")
    search_query = str_field("SearchQuery")
    result_count = int_field("ResultCount")
    affected_configuration_items = str_list_field("AffectedConfigurationItems")

    @property
    def extended_info(self) -> BackupExtendedInfo | None:
        return self._wrap(BackupExtendedInfo, "extendedInfo")

    @property
    def conditions(self) -> list[AlertCondition]:
        return self._wrap_list(AlertCondition, "condition", "allOf")

    @property
    def dimensions(self) -> dict[str, str]:
        """The dimensions of every condition, merged."""
        return _merged_dimensions(self.conditions)

    @property
    def search_result_tables(self) -> list[SearchResultTable]:
        return self._wrap_list(SearchResultTable, "SearchResults", "tables")

    def records(self) -> list[dict[str, Any]]:
        tables = self.search_result_tables
        if not tables:
            return []
        return [r for table in tables for r in table.records()][:MAX_ROWS]


class CommonAlert(DictWrapper):
    """The webhook body: schemaId + data.essentials + data.alertContext."""

    schema_id = str_field("schemaId")

    @property
    def essentials(self) -> AlertEssentials:
        value = self._dict("data", "essentials")
        if value is None:
            raise SignalError("$.data.essentials: missing in a common alert schema payload")
        return AlertEssentials(value, "$.data.essentials")

    @property
    def alert_context(self) -> AlertContext:
        return AlertContext(self._dict("data", "alertContext") or {}, "$.data.alertContext")

    @property
    def custom_properties(self) -> Mapping[str, Any]:
        return self._dict("data", "customProperties") or {}

    def signals(self) -> list[Signal]:
        """One per embedded log row that names a backup job or replicated item, else one."""
        ctx = self.alert_context
        records = ctx.records()
        base = _alert_signal(self.essentials, ctx, records)
        rows = [signal_from_row(base, row) for row in records]
        return [s for s in rows if s is not None] or [base]


def _alert_signal(ess: AlertEssentials, ctx: AlertContext, records: list[dict[str, Any]]) -> Signal:
    """The alert's own signal; each field is read once, in the order the signal needs it."""
    info = ctx.extended_info
    conditions = ctx.conditions
    dimensions = _merged_dimensions(conditions)
    dims = {k.lower(): v for k, v in dimensions.items()} if dimensions else {}
    target_ids = ess.alert_target_ids
    vault_id, target_vm, target_subscription = _target_facts(target_ids)
    text = ess.description or ess.alert_rule or "Azure Monitor alert"
    monitoring_service = ess.monitoring_service
    built_in = (monitoring_service or "").lower() in BUILT_IN_SERVICES
    origin_alert_id = ess.origin_alert_id
    suffix = _origin_suffix(origin_alert_id or "") if built_in else None
    actions = info.recommended_actions if info else None
    codes = merge_codes(
        aka_ms_codes(actions or ""),
        find_codes(text),
        [dims[k] for k in _CODE_DIMENSIONS if k in dims] if dims else (),
        [suffix] if suffix else (),
    )
    monitor_condition = ess.monitor_condition
    protected_item_id = ctx.protected_item_id
    extra = {
        "alert_rule": ess.alert_rule,
        "severity": ess.severity,
        "monitoring_service": monitoring_service,
        "monitor_condition": monitor_condition,
        "origin_alert_id": origin_alert_id,
        "origin_suffix": suffix,
        "recommended_actions": actions,
        "possible_causes": info.possible_causes if info else None,
        "protected_item_id": protected_item_id,
        "dimensions": dimensions or None,
        "investigation_link": _https(ess.investigation_link),
    }
    vm = (
        ctx.linked_resource_name
        or (next((dims[k] for k in _VM_DIMENSIONS if k in dims), None) if dims else None)
        or target_vm
        or _computer(ess, ctx, records, target_ids)
    )
    resolved = (monitor_condition or "").lower() == "resolved"
    linked_resource_id = ctx.linked_resource_id
    return make_signal(
        SourceKind.COMMON_ALERT,
        text,
        codes,
        vm=vm,
        resource_id=linked_resource_id,
        vault_id=vault_id,
        vault=next((dims[k] for k in _VAULT_DIMENSIONS if k in dims), None) if dims else None,
        subscription_id=target_subscription,
        scope=vault_id,
        job_id=info.job_id if info else None,
        time=(ess.resolved_date_time if resolved else None) or ess.fired_date_time,
        resolved=resolved,
        source_id=ess.alert_id,
        service=(
            services.of_monitoring_service(monitoring_service)
            or services.of_resources((linked_resource_id, protected_item_id, *target_ids))
            or _service_of_queries(ctx, conditions)
            or (services.of_dimensions(dims) if dims else None)
        ),
        extra={k: v for k, v in extra.items() if v},
    )


def _merged_dimensions(conditions: list[AlertCondition]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for condition in conditions:
        merged.update(condition.dimensions)
    return merged


def _service_of_queries(ctx: AlertContext, conditions: list[AlertCondition]) -> str | None:
    """Azure Backup or Migrate, when a log search alert's query (v1 or v2) reads their tables."""
    for query in (ctx.search_query, *(c.search_query for c in conditions)):
        found = services.of_query(query) if query else None
        if found:
            return found
    return None


def _computer(
    ess: AlertEssentials, ctx: AlertContext, records: list[dict[str, Any]], target_ids: list[str]
) -> str | None:
    """The machine a log search alert is about: its result rows' Computer column, else the
    one configuration item a workspace-targeted alert names."""
    for record in records:
        for column in _COMPUTER_COLUMNS:
            value = record.get(column)
            if isinstance(value, str) and value.strip():
                return value.rsplit("/", 1)[-1]
    items = ess.configuration_items or ctx.affected_configuration_items
    on_workspace = (ess.target_resource_type or "").lower() == _WORKSPACES or any(
        _WORKSPACES in target.lower() for target in target_ids
    )
    return items[0] if on_workspace and len(items) == 1 else None


def signal_from_row(base: Signal, row: dict[str, Any]) -> Signal | None:
    """A log search row read as its table's record (AddonAzureBackupJobs, ASRReplicatedItems),
    keeping the alert's identity; None for a row of another table."""
    if log_analytics.is_backup_job_row(row):
        found = log_analytics.backup_job_signals(row)[0]
    elif log_analytics.is_replicated_item_row(row):
        found = log_analytics.replicated_item_signals(row)[0]
    else:
        return None
    return dataclasses.replace(
        found,
        source=base.source,
        source_id=f"{base.source_id}|{found.source_id or ''}",
        resolved=base.resolved or found.resolved,
        time=found.time or base.time,
        vault_id=found.vault_id or base.vault_id,
        vault=found.vault or base.vault,
        scope=found.scope or base.scope,
        extra={**base.extra, **found.extra, "row_source": found.source.value},
    )


def _target_facts(target_ids: list[str]) -> tuple[str | None, str | None, str | None]:
    """(vault id, VM name, subscription) the alert targets name: the first vault among them,
    the first target's VM and subscription (the alert target, a vault, VM or workspace, is in
    the subscription that raised it)."""
    targets = [arm for arm in map(ArmId.parse, target_ids) if arm]
    if not targets:
        return None, None, None
    vault_id = None
    for target in targets:
        vault_id = target.vault_id
        if vault_id:
            break
    first = targets[0]
    return vault_id, first.get("virtualMachines"), first.subscription_id


def _https(url: str | None) -> str | None:
    """A link a card may open: https only (the alert's investigation link is the portal's)."""
    return url if url and url.lower().startswith("https://") and len(url) <= 2048 else None


@memo
def _origin_suffix(origin_alert_id: str) -> str | None:
    match = _ORIGIN_SUFFIX.search(origin_alert_id)
    return match.group(1) if match else None


def matches(data: Mapping[str, Any]) -> bool:
    schema = data.get("schemaId")
    return isinstance(schema, str) and schema.lower() == SCHEMA_ID.lower()


def signals(data: Mapping[str, Any]) -> list[Signal]:
    return CommonAlert(data).signals()
