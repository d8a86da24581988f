"""The pipeline as a user depends on it: no duplicate cards, one card per storm."""

from __future__ import annotations

import pytest

from tests.engine.signals import dispose_timeout, rp_limit_alert


def test_same_alert_five_times_gives_one_incident_one_card(engine):
    results = [engine.ingest(rp_limit_alert()) for _ in range(5)]
    assert [r.duplicate for r in results] == [False, True, True, True, True]
    assert len(engine.incidents.open_incidents()) == 1
    assert len(engine.notifier.posts) == 1
    assert engine.counters.duplicates == 4


def test_restore_point_limit_waits_for_approval(engine):
    engine.ingest(rp_limit_alert())
    incident = engine.incidents.open_incidents()[0]
    assert incident["entry_id"] == "rp-collection-limit-reached"
    assert incident["plan"]["mode"] == "approval"
    assert engine.approvals.get(incident["approval_id"])["state"] == "pending"
    assert engine.runs.all() == []  # nothing runs before a human says so


def test_storm_of_300_signals_from_150_vms_is_one_incident(engine):
    for cycle in range(2):
        for n in range(150):
            engine.ingest(dispose_timeout(f"erp-vm-{n:03}", cycle))
    incidents = engine.incidents.open_incidents()
    assert len(incidents) == 1
    assert incidents[0]["entry_id"] == "dispose-artefacts-timed-out"
    assert len(incidents[0]["vms"]) == 150
    assert len(engine.notifier.posts) == 1


def test_a_resolution_read_from_azure_closes_the_incident(engine):
    engine.ingest(rp_limit_alert("erp-app-03"))
    engine.ingest(rp_limit_alert("erp-app-03", resolved=True), from_azure=True)
    assert engine.incidents.open_incidents() == []
    assert engine.incidents.for_vm("erp-app-03")[0]["status"] == "resolved"


def test_a_resolved_alert_azure_cannot_confirm_closes_nothing_and_says_why(engine):
    def unreachable(run):
        raise ConnectionError("ARM unreachable")

    engine._arm_for = unreachable
    engine.ingest(rp_limit_alert("erp-app-03"))
    engine.ingest(rp_limit_alert("erp-app-03", resolved=True))
    (incident,) = engine.incidents.open_incidents()
    assert incident["active_vms"] == ["erp-app-03"]
    assert any("resolved alert not confirmed by Azure" in n for n in incident["notes"])


def test_unknown_error_is_a_manual_unclassified_incident(engine):
    from remediation.signals import parse_payload

    engine.ingest(parse_payload("The flux capacitor of VM erp-app-09 overheated."))
    incident = engine.incidents.open_incidents()[0]
    assert incident["entry_id"] is None
    assert incident["plan"]["mode"] == "manual"


def test_a_storm_edits_its_card_a_few_times_not_once_per_vm(engine):
    for n in range(150):
        engine.ingest(dispose_timeout(f"erp-vm-{n:03}"))
    assert engine.counters.card_updates < 10
    incident = engine.incidents.open_incidents()[0]
    assert incident["card_dirty"]
    assert engine.flush_cards() == 1
    latest = engine.notifier.latest[incident["card"]["message_id"]]
    assert len(latest["incident"]["vms"]) == 150


def test_concurrent_first_signals_of_one_root_cause_open_exactly_one_incident(engine):
    import threading

    signals = [rp_limit_alert(f"erp-app-{n:02}") for n in range(16)]
    barrier, errors = threading.Barrier(len(signals)), []

    def ingest(signal):
        barrier.wait()
        try:
            engine.ingest(signal)
        except Exception as exc:  # the webhook would answer 500
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(s,)) for s in signals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (incident,) = engine.incidents.open_incidents()
    assert len(incident["vms"]) == 16
    assert len(engine.notifier.posts) == 1


def test_a_failed_incident_insert_does_not_block_its_root_cause(engine, monkeypatch):
    from remediation.store import InvalidData

    insert = engine.store.insert

    def failing_once(table, *args, **kwargs):
        if table == "incidents" and not failing_once.done:
            failing_once.done = True
            raise InvalidData("document too large")
        return insert(table, *args, **kwargs)

    failing_once.done = False
    monkeypatch.setattr(engine.store, "insert", failing_once)
    with pytest.raises(InvalidData):
        engine.ingest(rp_limit_alert("erp-app-01"))
    engine.ingest(rp_limit_alert("erp-app-02"))
    (incident,) = engine.incidents.open_incidents()
    assert incident["vms"] == ["erp-app-02"]
