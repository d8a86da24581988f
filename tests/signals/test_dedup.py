"""Dedup keys: equal for redeliveries and repeated polls, different for a different error."""

from __future__ import annotations

from remediation.signals import parse_payload, signals_from_payload


def test_redelivered_alert_shares_the_key(load_event):
    first = load_event("common_alert_backup_failure_rp_limit.json")
    again = load_event("common_alert_backup_failure_rp_limit.json")
    again["data"]["essentials"]["investigationLink"] = "https://portal.azure.com/other"
    again["data"]["alertContext"]["extendedInfo"]["occurrenceCount"] = 2
    assert parse_payload(first).dedup_key == parse_payload(again).dedup_key


def test_a_different_alert_id_is_a_different_observation(load_event):
    first = load_event("common_alert_backup_failure_rp_limit.json")
    other = load_event("common_alert_backup_failure_rp_limit.json")
    other["data"]["essentials"]["alertId"] += "0"
    assert parse_payload(first).dedup_key != parse_payload(other).dedup_key


def test_resolution_of_an_alert_does_not_collide_with_its_firing(load_event):
    fired = parse_payload(load_event("common_alert_backup_failure_rp_limit.json"))
    resolved = parse_payload(load_event("common_alert_backup_resolved.json"))
    assert fired.source_id == resolved.source_id
    assert fired.dedup_key != resolved.dedup_key


def test_alert_inside_an_event_keeps_the_alert_key(load_event):
    direct = parse_payload(load_event("common_alert_backup_failure_rp_limit.json"))
    wrapped = signals_from_payload(load_event("eventgrid_event_wrapping_alert.json")[0])[0]
    assert direct.dedup_key == wrapped.dedup_key


def test_same_health_error_on_two_polls_shares_the_key(load_event):
    poll_1 = load_event("migration_item_dispose_artefacts.json")
    poll_2 = load_event("migration_item_dispose_artefacts.json")
    poll_2["properties"]["currentJob"]["startTime"] = "2025-06-02T21:30:00Z"
    assert parse_payload(poll_1).dedup_key == parse_payload(poll_2).dedup_key


def test_a_new_occurrence_or_another_error_gets_a_new_key(load_event):
    item = load_event("migration_item_dispose_artefacts.json")
    first, second = signals_from_payload(item)
    assert first.dedup_key != second.dedup_key
    later = load_event("migration_item_dispose_artefacts.json")
    later["properties"]["healthErrors"][1]["creationTimeUtc"] = "2025-06-02T23:12:40Z"
    assert parse_payload(later).dedup_key != first.dedup_key


def test_healthy_item_repeats_dedup(load_event):
    assert (
        parse_payload(load_event("migration_item_healthy.json")).dedup_key
        == parse_payload(load_event("migration_item_healthy.json")).dedup_key
    )


def test_raw_text_key_ignores_spacing_and_case():
    a = parse_payload("Error ID: 1011  upload  did not complete")
    b = parse_payload("error id: 1011 upload did not complete")
    assert a.dedup_key == b.dedup_key
