"""The scope filter: what is not about Azure Backup or Azure Migrate, and what is not a
failure, is recorded on the signal's record and never becomes an incident or a card."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from remediation.engine import SEEN
from remediation.policy import PolicyError, Scope, parse_policy
from remediation.scope import FIX_JOB, NOT_A_FAILURE, OUT_OF_SCOPE, ignored_counts
from remediation.signals import parse_payload, signals_from_payload
from tests.engine.signals import changed_blocks_error, rp_limit_alert

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "payloads"


def corpus(name: str):
    return json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))


def record_of(engine, signal) -> dict:
    key = signal.dedup_key
    return engine.store.get(SEEN, key[:2], key).data


def test_a_service_health_alert_is_recorded_out_of_scope_not_an_incident(engine):
    signal = parse_payload(corpus("monitor-service-health-alert.test-action"))
    ingested = engine.ingest(signal)
    assert ingested.incident_id is None and engine.incidents.open_incidents() == []
    assert engine.notifier.posts == []
    record = record_of(engine, signal)
    assert record["state"] == OUT_OF_SCOPE and "ServiceHealth" in record["reason"]
    assert record["ignored"]["monitoring_service"] == "ServiceHealth" and "signal" not in record
    assert ignored_counts(engine.store, SEEN) == {OUT_OF_SCOPE: 1, NOT_A_FAILURE: 0, FIX_JOB: 0}


def test_a_metric_alert_on_a_storage_account_is_out_of_scope(engine):
    engine.ingest(parse_payload(corpus("monitor-metric-static-alert.test-action")))
    assert engine.incidents.open_incidents() == []
    assert engine.counters.extra == {OUT_OF_SCOPE: 1}


def test_a_backup_job_still_in_progress_is_not_a_failure(engine):
    listed = corpus("backup-jobs-list-in-progress-and-completed")
    for signal in signals_from_payload(listed):
        engine.ingest(signal)
    assert engine.incidents.open_incidents() == []
    assert engine.counters.extra == {NOT_A_FAILURE: 2}


def test_an_informational_health_error_on_a_normal_item_is_not_a_failure(engine):
    signal = parse_payload(corpus("migration-item-normal-with-test-failover-warning"))
    engine.ingest(signal)
    record = record_of(engine, signal)
    assert record["state"] == NOT_A_FAILURE and "health is Normal" in record["reason"]
    assert engine.incidents.open_incidents() == []


def test_backup_and_migrate_failures_and_pasted_text_still_open_incidents(engine):
    engine.ingest(rp_limit_alert("erp-app-03"))
    engine.ingest(changed_blocks_error("erp-db-07"))
    engine.ingest(parse_payload("The flux capacitor of VM erp-app-09 overheated."))
    assert len(engine.incidents.open_incidents()) == 3
    assert engine.counters.extra == {}


def test_an_alert_that_only_names_a_catalogued_error_is_in_scope(engine):
    alert = copy.deepcopy(corpus("monitor-log-v2-heartbeat-alert.test-action"))
    engine.ingest(parse_payload(alert))  # the Heartbeat sample itself is out of scope
    alert["data"]["essentials"]["alertId"] += "-custom"
    alert["data"]["essentials"]["description"] = "VM agent unable to communicate with Azure Backup"
    engine.ingest(parse_payload(alert))
    [incident] = engine.incidents.open_incidents()
    assert (incident["entry_id"], incident["vms"]) == (
        "guest-agent-status-unavailable",
        ["test-computer"],
    )
    assert engine.counters.extra == {OUT_OF_SCOPE: 1}


@pytest.fixture
def backup_only(policy):
    return replace(policy, scope=replace(Scope(), services=frozenset({"backup"})))


def test_the_policy_can_narrow_the_scope_to_one_service(engine, backup_only):
    engine._policy = lambda: backup_only
    engine.ingest(changed_blocks_error("erp-db-07"))
    engine.ingest(rp_limit_alert("erp-app-03"))
    assert [i["entry_id"] for i in engine.incidents.open_incidents()] == [
        "rp-collection-limit-reached"
    ]
    assert engine.counters.extra == {OUT_OF_SCOPE: 1}


def test_scope_settings_are_read_from_the_policy_file():
    scope = parse_policy(
        {"scope": {"services": ["Backup"], "quiet_statuses": ["InProgress"],
                   "never_monitoring_services": ["Platform"]}}
    ).scope  # fmt: skip
    assert scope.services == {"backup"} and scope.quiet_statuses == {"inprogress"}
    assert scope.never == {"platform"}
    assert scope.informational_levels == Scope().informational_levels


def test_the_readme_scope_block_spells_out_the_defaults():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\nscope:", 1)[1].split("```", 1)[0]
    assert parse_policy(yaml.safe_load("scope:" + block)).scope == Scope()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"scope": {"services": ["storage"]}}, "use backup, migrate"),
        ({"scope": {"quiet_statuses": "InProgress"}}, "expected a list of names"),
        ({"scope": {"colour": ["red"]}}, "unknown field"),
        ({"scope": ["backup"]}, "expected a mapping"),
    ],
)
def test_bad_scope_settings_are_refused_with_the_field(raw, reason):
    with pytest.raises(PolicyError, match=reason):
        parse_policy(raw, source="policy.yaml")
