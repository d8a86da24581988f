"""Blast radius: limits per fix, concurrency, cool-down, circuit breaker, windows, kill switch."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from remediation.policy import Limits, Policy, Window
from tests.engine.signals import dispose_timeout

# Every DisposeArtefactsTimedOut VM gets an automatic, read-only `diagnose` run.


def _storm(engine, vms: int) -> dict:
    for n in range(vms):
        engine.ingest(dispose_timeout(f"vm-{n:02}"))
    return engine.incidents.open_incidents()[0]


def _engine_with(engine, policy: Policy):
    engine._policy = lambda: policy
    return engine


def test_max_vms_per_fix_caps_the_runs_and_says_so(engine):
    _engine_with(engine, Policy(limits=Limits(max_vms_per_fix=3)))
    incident = _storm(engine, 5)
    assert len(engine.runs.all()) == 3
    assert any(
        "over the limit of 3 VMs" in n for n in engine.incidents.get(incident["id"])["notes"]
    )


def test_max_concurrent_fixes_holds_the_rest_pending(engine):
    _engine_with(engine, Policy(limits=Limits(max_concurrent_fixes=2)))
    _storm(engine, 4)
    states = sorted(r["state"] for r in engine.runs.all())
    assert states == ["pending", "pending", "queued", "queued"]


def test_kill_switch_starts_nothing(engine):
    engine.set_switch("paused", True, "user:ops")
    _storm(engine, 2)
    assert engine.runs.all() == []
    assert engine.incidents.open_incidents()[0]["plan"]["reason"] == "automation is paused"
    assert engine.audit.entries()[0]["action"] == "set paused"


def test_outside_the_maintenance_window_automatic_runs_wait(engine):
    saturday_noon = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    engine.clock = lambda: saturday_noon
    window = Window(("mon",), time(1, 0), time(3, 0))
    _engine_with(engine, Policy(windows=(window,)))
    _storm(engine, 2)
    assert {r["state"] for r in engine.runs.all()} == {"pending"}
    engine.clock = lambda: datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 02:00
    engine.start_pending()
    assert {r["state"] for r in engine.runs.all()} == {"queued"}


def _failed_runs(engine, count: int, *, confirmed: bool) -> None:
    now = engine.clock()
    for n in range(count):
        engine.runs.add({
            "id": f"run-old-{n}", "incident_id": "inc-x", "playbook": "diagnose", "vm": f"old-{n}",
            "target": {}, "state": "failed", "decided_by": "policy:auto", "confirmed": confirmed,
            "updated": (now - timedelta(minutes=5)).isoformat(),
        })  # fmt: skip


def test_circuit_breaker_stops_a_playbook_after_repeated_failures(engine):
    _engine_with(engine, Policy(limits=Limits(breaker_failures=2)))
    _failed_runs(engine, 2, confirmed=True)
    incident = _storm(engine, 1)
    assert [r["vm"] for r in engine.runs.all() if r["state"] != "failed"] == []
    notes = engine.incidents.get(incident["id"])["notes"]
    assert any("circuit breaker open" in n for n in notes)


def test_failures_azure_never_confirmed_do_not_open_the_breaker(engine):
    """Forged signals end in failures before any confirmation: they must not block real fixes."""
    _engine_with(engine, Policy(limits=Limits(breaker_failures=2)))
    _failed_runs(engine, 5, confirmed=False)
    _storm(engine, 1)
    assert len([r for r in engine.runs.all() if r["state"] != "failed"]) == 1


def test_a_worker_with_a_stale_view_never_exceeds_the_blast_radius_nor_doubles_a_fix(tmp_path):
    """Two workers (each its own engine on one store) start a storm's fixes; the second reads
    the runs as they were before the first wrote any, as a concurrent worker would. The limit
    is a check-and-set on the incident and one decision makes one run per VM."""
    from remediation.classify import default_classifier
    from remediation.engine import Engine
    from remediation.notify import RecordingNotifier
    from remediation.playbooks import PLAYBOOKS
    from remediation.queue.memory import InProcessQueue
    from remediation.store import SqliteStore

    policy = Policy(limits=Limits(max_vms_per_fix=4), paused=True)
    path = tmp_path / "store.db"
    first, second = (
        Engine(SqliteStore(path), default_classifier(), lambda: policy, InProcessQueue(),
               RecordingNotifier(), PLAYBOOKS, arm_for=lambda run: None)
        for _ in range(2)
    )  # fmt: skip
    incident = _storm(first, 8)  # paused: recorded, no run yet
    first.incidents.update(incident["id"], lambda doc: {**doc, "plan": {
        "mode": "auto", "playbook": "diagnose", "reason": "test"}})  # fmt: skip
    policy = Policy(limits=Limits(max_vms_per_fix=4))
    second.runs.for_incident = lambda incident_id: []  # its read came before the first's writes
    assert len(first._start_runs(incident["id"], "policy:auto").ids) == 4
    assert second._start_runs(incident["id"], "policy:auto").ids == []
    runs = first.runs.all()
    assert len(runs) == len({r["vm"] for r in runs}) == 4
