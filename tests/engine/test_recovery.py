"""A migration item that is healthy again clears every replication failure it had: its health
snapshot names no error, so it cannot match the failure's root cause, yet it is the very
signal that says the failure is over."""

from __future__ import annotations

import copy

from remediation.signals import Signal, signals_from_payload
from tests.engine.signals import backup_error_alert, dispose_timeout, load


def healthy_item(vm: str) -> Signal:
    """`vm`'s migration item as Azure lists it once replication is healthy again."""
    item = copy.deepcopy(load("migration_item_dispose_artefacts.json"))
    item["id"] = item["id"].rsplit("/", 1)[0] + f"/{vm}-item"
    item["name"] = f"{vm}-item"
    item["properties"].update(machineName=vm, health="Normal", healthErrors=[])
    (signal,) = signals_from_payload(item)
    assert signal.resolved
    return signal


def test_a_healthy_item_read_from_azure_closes_its_replication_incident(engine):
    engine.ingest(dispose_timeout("erp-app-03"))
    engine.ingest(healthy_item("erp-app-03"), from_azure=True)
    assert engine.incidents.open_incidents() == []
    (incident,) = engine.incidents.for_vm("erp-app-03")
    assert incident["status"] == "resolved" and incident["active_vms"] == []


def test_a_healthy_item_clears_only_its_own_vm(engine):
    engine.ingest(dispose_timeout("erp-app-03"))
    engine.ingest(dispose_timeout("erp-app-04"))
    engine.ingest(healthy_item("erp-app-03"), from_azure=True)
    (incident,) = engine.incidents.open_incidents()
    assert incident["active_vms"] == ["erp-app-04"]


def test_a_healthy_item_leaves_the_vms_backup_incident_open(engine):
    agent = "VM Agent unable to communicate with Azure Backup"
    engine.ingest(backup_error_alert("erp-app-03", "UserErrorGuestAgentStatusUnavailable", agent))
    engine.ingest(healthy_item("erp-app-03"), from_azure=True)
    (incident,) = engine.incidents.open_incidents()
    assert incident["service"] != "migrate" and incident["active_vms"] == ["erp-app-03"]


def test_a_healthy_item_from_a_webhook_needs_azure_to_agree(engine):
    def unreachable(run):
        raise ConnectionError("ARM unreachable")

    engine._arm_for = unreachable
    engine.ingest(dispose_timeout("erp-app-03"))
    engine.ingest(healthy_item("erp-app-03"))
    (incident,) = engine.incidents.open_incidents()
    assert incident["active_vms"] == ["erp-app-03"]
    assert any("not confirmed by Azure" in n for n in incident["notes"])


def test_an_item_that_fails_and_recovers_twice_closes_both_incidents(engine):
    engine.ingest(dispose_timeout("erp-app-03", cycle=1))
    engine.ingest(healthy_item("erp-app-03"), from_azure=True)
    engine.ingest(dispose_timeout("erp-app-03", cycle=2))
    assert len(engine.incidents.open_incidents()) == 1
    engine.ingest(healthy_item("erp-app-03"), from_azure=True)
    assert engine.incidents.open_incidents() == []
    assert [i["status"] for i in engine.incidents.for_vm("erp-app-03")] == ["resolved"] * 2
