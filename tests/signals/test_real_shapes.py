"""Shapes Azure really sends that the parsers once refused or misread: list responses with a
next page link, replication events and jobs, log search alerts' computers, and Event Grid
system events about any resource."""

from __future__ import annotations

import copy

import pytest

from remediation.signals import SignalError, SourceKind, parse_batch, signals_from_payload
from tests.engine.signals import load
from tests.engine.test_scope import corpus


def test_a_list_response_gives_each_item_signals_and_names_the_item_at_fault():
    page = corpus("migration-items-page-with-next-link")
    signals = signals_from_payload(page)
    assert [s.vm for s in signals] == ["erp-db-01", "erp-db-01", "vm-0520-2"]
    broken = copy.deepcopy(page)
    broken["value"][1] = {"properties": "not an object"}
    with pytest.raises(SignalError, match=r"^\$\.value\[1\]: "):
        signals_from_payload(broken)
    with pytest.raises(SignalError, match="no items"):
        signals_from_payload({"value": [], "nextLink": "https://management.azure.com/next"})


def test_a_list_response_of_backup_jobs_is_read_job_by_job():
    jobs = signals_from_payload(corpus("backup-jobs-list-in-progress-and-completed"))
    assert [(s.source, s.status) for s in jobs] == [
        (SourceKind.BACKUP_JOB, "InProgress"),
        (SourceKind.BACKUP_JOB, "Completed"),
    ]


def test_a_replication_event_is_not_taken_for_a_migration_item():
    [signal] = signals_from_payload(corpus("replication-event-no-disk-snapshots"))
    assert signal.source is SourceKind.REPLICATION_EVENT
    assert signal.vm == "vm1"  # affectedObjectFriendlyName, not the event id
    assert signal.codes[0] == "566" and signal.service == "migrate"


def test_a_replication_job_names_a_machine_only_when_its_target_is_one():
    jobs = signals_from_payload(corpus("replication-jobs-list-succeeded"))
    assert {s.source for s in jobs} == {SourceKind.REPLICATION_JOB}
    assert [s.vm for s in jobs] == [None, None, None]  # targets: a policy, servers
    failed = copy.deepcopy(corpus("replication-jobs-list-succeeded")["value"][0])
    failed["properties"].update(
        state="Failed", targetInstanceType="ProtectionEntity", targetObjectName="erp-db-01",
        errors=[{"serviceErrorDetails": {"code": "DiskUploadTimedOut", "message": "Disk upload"},
                 "providerErrorDetails": {"errorCode": 1011, "errorMessage": "Timed out."}}],
    )  # fmt: skip
    [signal] = signals_from_payload(failed)
    assert (signal.vm, signal.status, signal.codes) == (
        "erp-db-01",
        "Failed",
        ("DiskUploadTimedOut", "1011"),
    )


@pytest.mark.parametrize(
    ("name", "vm"),
    [("monitor-log-v1-heartbeat-alert.test-action", "test-computer"),
     ("monitor-log-v2-heartbeat-alert.test-action", "test-computer")],
)  # fmt: skip
def test_a_log_search_alert_names_its_computer(name, vm):
    assert signals_from_payload(corpus(name))[0].vm == vm


def test_configuration_items_name_a_machine_only_for_an_alert_on_a_workspace():
    metric = corpus(
        "monitor-metric-static-alert.test-action"
    )  # configurationItems: a storage account
    assert signals_from_payload(metric)[0].vm is None


def test_event_grid_events_of_unknown_types_are_still_refused():
    [event] = copy.deepcopy(load("eventgrid_event_wrapping_alert.json"))
    event["eventType"] = "Contoso.Custom.Thing"
    event["data"] = {"what": "not a payload we know"}
    with pytest.raises(SignalError, match=r"Contoso\.Custom\.Thing"):
        parse_batch(event)


def test_service_evidence_comes_from_the_payload():
    [alert] = signals_from_payload(load("common_alert_backup_failure_rp_limit.json"))
    [item] = signals_from_payload(load("migration_item_dispose_artefacts.json"))[:1]
    [budget] = signals_from_payload(corpus("monitor-budget-alert.test-action"))
    assert (alert.service, item.service, budget.service) == ("backup", "migrate", None)
