"""Each typed property reads exactly the raw JSON path it documents."""

from __future__ import annotations

from datetime import datetime

import pytest

from remediation.signals.backup_job import BackupJob
from remediation.signals.common_alert import CommonAlert
from remediation.signals.eventgrid import CloudEvent, EventGridEvent
from remediation.signals.log_analytics import BackupJobRow, ReplicatedItemRow
from remediation.signals.migration_item import MigrationItem
from remediation.signals.wrapper import to_datetime


def walk(raw, path):
    for key in path:
        raw = raw[key]
    return raw


def check(wrapper, raw, cases):
    for attribute, path in cases:
        value = walk(raw, path)
        got = attribute(wrapper)
        if isinstance(got, datetime):
            value = to_datetime(value, "test")
        assert got == value, (attribute, path)


def test_common_alert_properties(load_event):
    raw = load_event("common_alert_backup_failure_rp_limit.json")
    alert = CommonAlert(raw)
    ess, ctx = ("data", "essentials"), ("data", "alertContext")
    check(alert, raw, [
        (lambda a: a.schema_id, ("schemaId",)),
        (lambda a: a.essentials.alert_id, (*ess, "alertId")),
        (lambda a: a.essentials.alert_rule, (*ess, "alertRule")),
        (lambda a: a.essentials.severity, (*ess, "severity")),
        (lambda a: a.essentials.signal_type, (*ess, "signalType")),
        (lambda a: a.essentials.monitor_condition, (*ess, "monitorCondition")),
        (lambda a: a.essentials.monitoring_service, (*ess, "monitoringService")),
        (lambda a: a.essentials.alert_target_ids, (*ess, "alertTargetIDs")),
        (lambda a: a.essentials.configuration_items, (*ess, "configurationItems")),
        (lambda a: a.essentials.origin_alert_id, (*ess, "originAlertId")),
        (lambda a: a.essentials.fired_date_time, (*ess, "firedDateTime")),
        (lambda a: a.essentials.description, (*ess, "description")),
        (lambda a: a.essentials.target_resource_type, (*ess, "targetResourceType")),
        (lambda a: a.essentials.target_resource_group, (*ess, "targetResourceGroup")),
        (lambda a: a.essentials.investigation_link, (*ess, "investigationLink")),
        (lambda a: a.alert_context.linked_resource_id, (*ctx, "linkedResourceId")),
        (lambda a: a.alert_context.linked_resource_name, (*ctx, "linkedResourceName")),
        (lambda a: a.alert_context.protected_item_id, (*ctx, "protectedItemId")),
        (lambda a: a.alert_context.source_type, (*ctx, "sourceType")),
        (lambda a: a.alert_context.category, (*ctx, "category")),
        (lambda a: a.alert_context.extended_info.job_id, (*ctx, "extendedInfo", "jobId")),
        (lambda a: a.alert_context.extended_info.recommended_actions,
         (*ctx, "extendedInfo", "recommendedActions")),
        (lambda a: a.alert_context.extended_info.occurrence_count,
         (*ctx, "extendedInfo", "occurrenceCount")),
        (lambda a: a.alert_context.extended_info.possible_causes,
         (*ctx, "extendedInfo", "possibleCauses")),
    ])  # fmt: skip
    assert alert.essentials.resolved_date_time is None


def test_log_search_properties(load_event):
    raw = load_event("log_search_v1_backup_jobs.json")
    ctx = CommonAlert(raw).alert_context
    table = raw["data"]["alertContext"]["SearchResults"]["tables"][0]
    assert ctx.search_query == raw["data"]["alertContext"]["SearchQuery"]
    assert ctx.result_count == raw["data"]["alertContext"]["ResultCount"]
    assert ctx.search_result_tables[0].name == table["name"]
    assert ctx.search_result_tables[0].column_names == [c["name"] for c in table["columns"]]
    assert ctx.search_result_tables[0].rows == table["rows"]
    assert ctx.records()[1]["JobFailureCode"] == table["rows"][1][4]
    raw = load_event("log_search_v2.json")
    ctx = CommonAlert(raw).alert_context
    criterion = raw["data"]["alertContext"]["condition"]["allOf"][0]
    assert ctx.condition_type == "LogQueryCriteria"
    assert ctx.conditions[0].search_query == criterion["searchQuery"]
    assert ctx.conditions[0].metric_value == criterion["metricValue"]
    assert ctx.dimensions == {d["name"]: d["value"] for d in criterion["dimensions"]}


def test_migration_item_properties(load_event):
    raw = load_event("migration_item_dispose_artefacts.json")
    item = MigrationItem(raw)
    props, err = ("properties",), ("properties", "healthErrors", 1)
    check(item, raw, [
        (lambda i: i.id, ("id",)),
        (lambda i: i.name, ("name",)),
        (lambda i: i.type, ("type",)),
        (lambda i: i.properties.machine_name, (*props, "machineName")),
        (lambda i: i.properties.health, (*props, "health")),
        (lambda i: i.properties.migration_state, (*props, "migrationState")),
        (lambda i: i.properties.migration_state_description, (*props, "migrationStateDescription")),
        (lambda i: i.properties.allowed_operations, (*props, "allowedOperations")),
        (lambda i: i.properties.current_job.job_name, (*props, "currentJob", "jobName")),
        (lambda i: i.properties.current_job.job_id, (*props, "currentJob", "jobId")),
        (lambda i: i.properties.provider_specific_details.instance_type,
         (*props, "providerSpecificDetails", "instanceType")),
        (lambda i: i.properties.provider_specific_details.resync_required,
         (*props, "providerSpecificDetails", "resyncRequired")),
        (lambda i: i.properties.health_errors[1].error_code, (*err, "errorCode")),
        (lambda i: i.properties.health_errors[1].error_message, (*err, "errorMessage")),
        (lambda i: i.properties.health_errors[1].summary_message, (*err, "summaryMessage")),
        (lambda i: i.properties.health_errors[1].possible_causes, (*err, "possibleCauses")),
        (lambda i: i.properties.health_errors[1].recommended_action, (*err, "recommendedAction")),
        (lambda i: i.properties.health_errors[1].error_id, (*err, "errorId")),
        (lambda i: i.properties.health_errors[1].error_level, (*err, "errorLevel")),
        (lambda i: i.properties.health_errors[1].error_category, (*err, "errorCategory")),
        (lambda i: i.properties.health_errors[1].error_source, (*err, "errorSource")),
        (lambda i: i.properties.health_errors[1].entity_id, (*err, "entityId")),
        (lambda i: i.properties.health_errors[1].customer_resolvability,
         (*err, "customerResolvability")),
        (lambda i: i.properties.health_errors[1].creation_time_utc, (*err, "creationTimeUtc")),
        (lambda i: i.properties.health_errors[1].creation_time_utc_raw, (*err, "creationTimeUtc")),
        (lambda i: i.properties.health_errors[1].inner_health_errors[0].error_code,
         (*err, "innerHealthErrors", 0, "errorCode")),
    ])  # fmt: skip


def test_backup_job_properties(load_event):
    raw = load_event("backup_job_failed_rp_limit.json")
    job = BackupJob(raw)
    props, err = ("properties",), ("properties", "errorDetails", 0)
    check(job, raw, [
        (lambda j: j.id, ("id",)),
        (lambda j: j.name, ("name",)),
        (lambda j: j.type, ("type",)),
        (lambda j: j.properties.job_type, (*props, "jobType")),
        (lambda j: j.properties.entity_friendly_name, (*props, "entityFriendlyName")),
        (lambda j: j.properties.backup_management_type, (*props, "backupManagementType")),
        (lambda j: j.properties.operation, (*props, "operation")),
        (lambda j: j.properties.status, (*props, "status")),
        (lambda j: j.properties.start_time, (*props, "startTime")),
        (lambda j: j.properties.end_time, (*props, "endTime")),
        (lambda j: j.properties.activity_id, (*props, "activityId")),
        (lambda j: j.properties.duration, (*props, "duration")),
        (lambda j: j.properties.error_details[0].error_code, (*err, "errorCode")),
        (lambda j: j.properties.error_details[0].error_string, (*err, "errorString")),
        (lambda j: j.properties.error_details[0].error_title, (*err, "errorTitle")),
        (lambda j: j.properties.error_details[0].recommendations, (*err, "recommendations")),
        (lambda j: j.properties.extended_info.dynamic_error_message,
         (*props, "extendedInfo", "dynamicErrorMessage")),
        (lambda j: j.properties.extended_info.property_bag,
         (*props, "extendedInfo", "propertyBag")),
    ])  # fmt: skip
    assert isinstance(job.properties.error_details[0].error_code, int)


def test_log_analytics_row_properties(load_event):
    raw = load_event("la_addon_backup_jobs_row.json")
    row = BackupJobRow(raw)
    check(row, raw, [
        (lambda r: r.job_unique_id, ("JobUniqueId",)),
        (lambda r: r.job_status, ("JobStatus",)),
        (lambda r: r.job_failure_code, ("JobFailureCode",)),
        (lambda r: r.job_operation, ("JobOperation",)),
        (lambda r: r.backup_item_friendly_name, ("BackupItemFriendlyName",)),
        (lambda r: r.datasource_friendly_name, ("DatasourceFriendlyName",)),
        (lambda r: r.datasource_resource_id, ("DatasourceResourceId",)),
        (lambda r: r.vault_name, ("VaultName",)),
        (lambda r: r.resource_id, ("ResourceId",)),
        (lambda r: r.subscription_id, ("SubscriptionId",)),
        (lambda r: r.resource_group_name, ("ResourceGroupName",)),
        (lambda r: r.time_generated, ("TimeGenerated",)),
        (lambda r: r.job_start_date_time, ("JobStartDateTime",)),
    ])  # fmt: skip
    raw = load_event("la_asr_replicated_items_row.json")
    row = ReplicatedItemRow(raw)
    check(row, raw, [
        (lambda r: r.replicated_item_id, ("ReplicatedItemId",)),
        (lambda r: r.replicated_item_friendly_name, ("ReplicatedItemFriendlyName",)),
        (lambda r: r.datasource_friendly_name, ("DatasourceFriendlyName",)),
        (lambda r: r.source_resource_id, ("SourceResourceId",)),
        (lambda r: r.replication_status, ("ReplicationStatus",)),
        (lambda r: r.failover_readiness, ("FailoverReadiness",)),
        (lambda r: r.vault_name, ("VaultName",)),
        (lambda r: r.subscription_id, ("_SubscriptionId",)),
        (lambda r: r.time_generated, ("TimeGenerated",)),
        (lambda r: r.replication_health_errors_raw, ("ReplicationHealthErrors",)),
    ])  # fmt: skip
    assert row.replication_health_errors[0].error_code == "181008"


@pytest.mark.parametrize(
    ("name", "cls", "fields"),
    [
        ("eventgrid_event_wrapping_alert.json", EventGridEvent,
         {"id": "id", "event_type": "eventType", "subject": "subject", "topic": "topic",
          "data": "data", "data_version": "dataVersion", "metadata_version": "metadataVersion",
          "event_time": "eventTime"}),
        ("cloudevent_wrapping_migration_item.json", CloudEvent,
         {"id": "id", "type": "type", "source": "source", "subject": "subject", "data": "data",
          "specversion": "specversion", "datacontenttype": "datacontenttype", "time": "time"}),
    ],
)  # fmt: skip
def test_event_envelope_properties(load_event, name, cls, fields):
    raw = load_event(name)
    raw = raw[0] if isinstance(raw, list) else raw
    event = cls(raw)
    check(event, raw, [((lambda e, a=a: getattr(e, a)), (key,)) for a, key in fields.items()])
