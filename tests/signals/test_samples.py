"""parse_payload / parse_batch on every sample payload in tests/events/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from remediation.signals import (
    SignalError,
    SourceKind,
    ValidationHandshake,
    is_validation_event,
    parse_batch,
    parse_payload,
    signals_from_payload,
)

SUB = "00000000-0000-0000-0000-000000000001"
BACKUP_VAULT = "rsv-prod-weu"
MIGRATE_VAULT = "migrate-prod-weu-MigrateVault-1234"
RP_LIMIT = "UserErrorRpCollectionLimitReached"
GUEST_AGENT = "UserErrorGuestAgentStatusUnavailable"
CONTAINER_SCOPE = (
    f"/Subscriptions/{SUB}/resourceGroups/rg-migrate-prod/providers/Microsoft.RecoveryServices"
    f"/vaults/{MIGRATE_VAULT}/replicationFabrics/migrate-appl-01-vmwarefabric"
    "/replicationProtectionContainers/migrate-appl-01-container"
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# file, source, vm, codes, vault, resolved, time, language
EXPECTED = [
    ("common_alert_backup_failure_rp_limit.json", SourceKind.COMMON_ALERT, "erp-app-03",
     (RP_LIMIT,), BACKUP_VAULT, False, at("2025-06-02T22:14:37.512044"), "en"),
    ("common_alert_backup_resolved.json", SourceKind.COMMON_ALERT, "erp-app-03",
     (RP_LIMIT,), BACKUP_VAULT, True, at("2025-06-03T06:40:02.003187"), "en"),
    ("common_alert_backup_failure_guest_agent_fr.json", SourceKind.COMMON_ALERT, "erp-web-01",
     (GUEST_AGENT,), BACKUP_VAULT, False, at("2025-06-02T23:05:11.1"), "fr"),
    ("log_search_v1_backup_jobs.json", SourceKind.COMMON_ALERT, "erp-app-03",
     (RP_LIMIT,), BACKUP_VAULT, False, at("2025-06-02T22:20:00"), "en"),
    ("log_search_v2.json", SourceKind.COMMON_ALERT, "erp-web-01",
     (GUEST_AGENT,), BACKUP_VAULT, False, at("2025-06-02T22:40:03.626"), "en"),
    ("eventgrid_event_wrapping_alert.json", SourceKind.COMMON_ALERT, "erp-app-03",
     (RP_LIMIT,), BACKUP_VAULT, False, at("2025-06-02T22:14:37.512044"), "en"),
    ("cloudevent_wrapping_migration_item.json", SourceKind.MIGRATION_ITEM, "erp-db-01",
     ("181008", "DisposeArtefactsTimedOut"), MIGRATE_VAULT, False, at("2025-06-02T21:12:40.1"),
     "en"),
    ("cloudevents_base64_backup_job.json", SourceKind.BACKUP_JOB, "erp-app-03",
     ("400093", RP_LIMIT), BACKUP_VAULT, False, at("2025-06-02T22:04:17.458252"), "en"),
    ("migration_item_dispose_artefacts.json", SourceKind.MIGRATION_ITEM, "erp-db-01",
     ("181008", "DisposeArtefactsTimedOut"), MIGRATE_VAULT, False, at("2025-06-02T21:12:40.1"),
     "en"),
    ("migration_item_healthy.json", SourceKind.MIGRATION_ITEM, "erp-app-03",
     (), MIGRATE_VAULT, True, None, "en"),
    ("backup_job_failed_rp_limit.json", SourceKind.BACKUP_JOB, "erp-app-03",
     ("400093", RP_LIMIT), BACKUP_VAULT, False, at("2025-06-02T22:04:17.458252"), "en"),
    ("backup_job_completed.json", SourceKind.BACKUP_JOB, "erp-app-03",
     (), BACKUP_VAULT, True, at("2025-06-03T06:38:51"), "en"),
    ("la_addon_backup_jobs_row.json", SourceKind.LOG_ANALYTICS_BACKUP_JOB, "erp-app-03",
     (RP_LIMIT,), BACKUP_VAULT, False, at("2025-06-02T22:20:00"), "en"),
    ("la_asr_replicated_items_row.json", SourceKind.LOG_ANALYTICS_REPLICATED_ITEM, "erp-db-01",
     ("181008",), MIGRATE_VAULT, False, at("2025-06-01T04:10:00"), "en"),
    ("raw_text_fr.json", SourceKind.RAW_TEXT, None, (RP_LIMIT,), None, False, None, "fr"),
    ("raw_text_en_error_id.json", SourceKind.RAW_TEXT, None, ("1011",), None, False, None, "en"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "source", "vm", "codes", "vault", "resolved", "time", "language"), EXPECTED
)
def test_sample_parses_to_expected_signal(
    load_event, name, source, vm, codes, vault, resolved, time, language
):
    value = load_event(name)
    signal = parse_batch(value)[0] if isinstance(value, list) else parse_payload(value)
    assert signal.source is source
    assert signal.vm == vm
    assert signal.codes == codes
    assert signal.vault == vault
    assert signal.resolved is resolved
    assert signal.time == time
    assert signal.language == language
    if vault:
        assert signal.subscription_id == SUB


def test_backup_alert_carries_job_vm_and_vault_ids(load_event):
    signal = parse_payload(load_event("common_alert_backup_failure_rp_limit.json"))
    assert signal.job_id == "3f9a2c51-7d0e-4b8a-9c61-2e5d8f4a1b07"
    assert signal.resource_id.endswith("/virtualMachines/erp-app-03")
    assert signal.resource_group == "rg-erp-prod"
    assert signal.vault_id.lower().endswith("/vaults/rsv-prod-weu")
    assert signal.scope == signal.vault_id
    assert signal.extra["origin_suffix"] == "usererrorrpcollectionlimitreached"
    assert (
        signal.source_id
        == load_event("common_alert_backup_failure_rp_limit.json")["data"]["essentials"]["alertId"]
    )


def test_origin_suffix_is_a_lower_case_code_when_no_link_names_it(load_event):
    alert = load_event("common_alert_backup_failure_rp_limit.json")
    alert["data"]["alertContext"]["extendedInfo"]["recommendedActions"] = "Retry later."
    alert["data"]["essentials"]["description"] = "Backup failed."
    signal = parse_payload(alert)
    assert signal.codes == ("usererrorrpcollectionlimitreached",)


def test_origin_suffix_ignored_outside_built_in_alerts(load_event):
    alert = load_event("common_alert_backup_failure_rp_limit.json")
    alert["data"]["essentials"]["monitoringService"] = "Platform"
    assert "origin_suffix" not in parse_payload(alert).extra


def test_alert_rule_id_is_read_whatever_its_case(load_event):
    from remediation.signals.common_alert import CommonAlert

    alert = CommonAlert(load_event("common_alert_backup_failure_guest_agent_fr.json"))
    assert alert.essentials.alert_rule_id.endswith("/builtin/backupfailure")


def test_log_search_v1_gives_one_signal_per_row(load_event):
    signals = signals_from_payload(load_event("log_search_v1_backup_jobs.json"))
    assert [(s.vm, s.codes) for s in signals] == [
        ("erp-app-03", (RP_LIMIT,)),
        ("erp-web-01", (GUEST_AGENT,)),
    ]
    assert all(s.source is SourceKind.COMMON_ALERT for s in signals)
    assert len({s.source_id for s in signals}) == 2
    assert signals[1].job_id == "8c2d9e4f-1a3b-4c5d-9e8f-7a6b5c4d3e2f"


def test_log_search_v1_without_known_columns_is_one_alert_signal(load_event):
    alert = load_event("log_search_v1_backup_jobs.json")
    table = alert["data"]["alertContext"]["SearchResults"]["tables"][0]
    table["columns"] = [{"name": "Computer", "type": "string"}]
    table["rows"] = [["erp-app-03"]]
    signals = signals_from_payload(alert)
    assert len(signals) == 1
    assert signals[0].message == "Failed Azure Backup jobs in the last hour"


def test_migration_item_orders_errors_by_severity_and_sets_scope(load_event):
    signals = signals_from_payload(load_event("migration_item_dispose_artefacts.json"))
    assert [s.codes[0] for s in signals] == ["181008", "1011"]
    first = signals[0]
    assert first.scope == CONTAINER_SCOPE
    assert first.resource_group == "rg-migrate-prod"
    assert first.extra["error_level"] == "Error"
    assert "StartResync" in first.extra["allowed_operations"]
    assert first.extra["instance_type"] == "VMwareCbt"
    assert "DisposeArtefactsTimedOut" in first.message


def test_la_replicated_item_accepts_a_list_as_well_as_json_text(load_event):
    import json

    row = load_event("la_asr_replicated_items_row.json")
    as_text = parse_payload(row)
    row["ReplicationHealthErrors"] = json.loads(row["ReplicationHealthErrors"])
    assert parse_payload(row) == as_text
    assert as_text.scope == CONTAINER_SCOPE.replace("/Subscriptions/", "/subscriptions/")


def test_la_replicated_item_without_errors_is_resolved(load_event):
    row = load_event("la_asr_replicated_items_row.json")
    row["ReplicationHealthErrors"] = "[]"
    row["ReplicationStatus"] = "Healthy"
    assert parse_payload(row).resolved is True


def test_cloudevent_and_eventgrid_record_their_envelope(load_event):
    signal = parse_payload(load_event("cloudevent_wrapping_migration_item.json"))
    assert signal.extra["envelope"]["schema"] == "cloudevents"
    assert signal.extra["envelope"]["type"] == "Contoso.Migrate.MigrationItemPolled"
    signal = parse_batch(load_event("eventgrid_event_wrapping_alert.json"))[0]
    assert signal.extra["envelope"]["schema"] == "eventgrid"
    assert signal.extra["envelope"]["topic"].endswith("/topics/egt-health-signals")


def test_batch_expands_every_event(load_event):
    signals = parse_batch(load_event("eventgrid_batch_resource_notification_and_alert.json"))
    assert [s.source for s in signals] == [
        SourceKind.MIGRATION_ITEM,
        SourceKind.MIGRATION_ITEM,
        SourceKind.COMMON_ALERT,
    ]


def test_parse_payload_rejects_lists_with_a_reason(load_event):
    with pytest.raises(SignalError, match="parse_batch"):
        parse_payload(load_event("eventgrid_event_wrapping_alert.json"))


def test_subscription_validation_is_a_handshake_not_a_signal(load_event):
    batch = load_event("eventgrid_subscription_validation.json")
    assert is_validation_event(batch)
    assert not is_validation_event(load_event("eventgrid_event_wrapping_alert.json"))
    with pytest.raises(ValidationHandshake) as caught:
        parse_batch(batch)
    assert caught.value.code == "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    assert caught.value.url.startswith("https://rp-westeurope.eventgrid.azure.net:553/")
    with pytest.raises(ValidationHandshake):
        parse_payload(batch[0])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"foo": 1}, "not a supported payload"),
        ([], "batch"),
        (3.5, "unsupported payload type: number"),
        (None, "unsupported payload type: null"),
        ("  \x00 ", "empty"),
        ({"schemaId": "azureMonitorCommonAlertSchema", "data": {}}, "data.essentials"),
        ({"specversion": "1.0", "id": "1", "type": "x"}, "has no data"),
    ],
)
def test_unsupported_values_get_a_clear_reason(value, reason):
    with pytest.raises(SignalError, match=reason):
        parse_payload(value)


def test_unknown_event_data_names_the_event_type(load_event):
    event = load_event("eventgrid_event_wrapping_alert.json")[0]
    event["data"] = {"api": "PutBlockList"}
    with pytest.raises(SignalError, match=r"Contoso\.Monitoring\.AlertFired.*not a supported"):
        parse_payload(event)


def test_batch_errors_name_the_index(load_event):
    batch = load_event("eventgrid_event_wrapping_alert.json")
    batch.append({"nope": True})
    with pytest.raises(SignalError, match=r"batch\[1\]"):
        parse_batch(batch)
