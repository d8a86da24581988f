"""Each limit and switch at its exact edge: the flood gate per source, subscription and window,
the cool-down after a fix that did something, the breaker's count and window, the blast
radius across an incident's runs, the concurrency slots and who goes first, the switches
flipped from chat. Off by one here is one write too many on a customer's estate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediation.approvals import Approver
from remediation.clock import iso
from remediation.policy import Limits, Policy
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import backup_error_alert, dispose_timeout, rp_limit_alert

SUB = "00000000-0000-0000-0000-000000000001"
ERRORS = [
    ("UserErrorGuestAgentStatusUnavailable",
     "VM agent is unable to communicate with the Azure Backup Service."),
    ("BackUpOperationFailed",
     "Backup failed with an internal error - Please retry the operation in a few minutes."),
    ("UserErrorVmProvisioningStateFailed", "The VM is in failed provisioning state."),
    ("UserErrorKeyvaultPermissionsNotConfigured",
     "Backup doesn't have sufficient permissions to the key vault."),
]  # fmt: skip


def _with(engine, **limits) -> None:
    policy = Policy(approvers=frozenset({APPROVER}), tenant_id=TENANT, limits=Limits(**limits))
    engine._policy = lambda: policy


def _new_incidents(engine, count: int, first: int = 0) -> list:
    """`count` new incidents, each a different error, from one source and subscription."""
    return [engine.ingest(backup_error_alert(f"vm-{n}", *ERRORS[n % len(ERRORS)])).incident_id
            for n in range(first, first + count)]  # fmt: skip


def _flood_note(held: int, limit: int = 2, minutes: str = "10") -> str:
    return (
        f"{held} new incident(s) from common-alert in subscription {SUB} were held: more than "
        f"{limit} in {minutes} min. They get no card of their own and no automatic fix; "
        "`status` lists them."
    )


def test_past_the_flood_limit_new_incidents_are_held_behind_one_card(timed_engine):
    engine = timed_engine
    _with(engine, new_incidents_per_window=2)
    first, second, third = _new_incidents(engine, 3)
    for incident_id in (first, second):
        assert engine.incidents.get(incident_id).get("held") is None
    held = engine.incidents.get(third)
    assert held["held"] == "flood"
    assert held["plan"] == {"mode": "manual", "playbook": None,
                            "reason": "held in a flood of new incidents"}  # fmt: skip
    assert sorted(r["incident_id"] for r in engine.runs.all()) == sorted([first, second])
    (flood,) = [i for i in engine.incidents.open_incidents() if i["id"].startswith("inc-flood-")]
    assert (flood["held_count"], flood["notes"]) == (1, [_flood_note(1)])
    assert len(engine.notifier.posts) == 3  # two incidents and the flood card
    _new_incidents(engine, 1, first=3)
    assert len(engine.notifier.posts) == 3, "the flood card is updated, not posted again"
    assert engine.incidents.get(flood["id"])["notes"] == [_flood_note(2)]


def test_the_flood_gate_is_per_window(timed_engine, clock):
    engine = timed_engine
    _with(engine, new_incidents_per_window=1, flood_window=timedelta(minutes=5))
    clock.now = clock.now.replace(minute=0)
    _, second = _new_incidents(engine, 2)
    assert engine.incidents.get(second)["held"] == "flood"
    assert engine.incidents.get(_flood_id(engine))["notes"] == [_flood_note(1, 1, "5")]
    clock.now += timedelta(minutes=5)
    (third,) = _new_incidents(engine, 1, first=2)
    assert engine.incidents.get(third).get("held") is None


def _flood_id(engine) -> str:
    (flood,) = [i for i in engine.incidents.open_incidents() if i["id"].startswith("inc-flood-")]
    return flood["id"]


def test_repeats_of_an_open_incident_never_count_towards_the_flood(timed_engine):
    engine = timed_engine
    _with(engine, new_incidents_per_window=1)
    for _ in range(3):
        engine.ingest(dispose_timeout("erp-db-01"))
    for n in range(5):
        engine.ingest(dispose_timeout(f"erp-db-{n:02}"))
    assert not any(i.get("held") for i in engine.incidents.open_incidents())


def _finished_run(engine, vm: str, state: str, age: timedelta, *, confirmed=True) -> None:
    engine.runs.add({
        "id": f"run-{vm}-{state}", "incident_id": "inc-old", "playbook": "diagnose", "vm": vm,
        "target": {}, "state": state, "decided_by": "policy:auto", "confirmed": confirmed,
        "updated": iso(engine.clock() - age),
    })  # fmt: skip


def _diagnose(engine, vm: str = "erp-db-01") -> dict:
    engine.ingest(dispose_timeout(vm))
    return engine.incidents.for_vm(vm)[0]


def _new_runs(engine) -> list:
    return [r for r in engine.runs.all() if r["incident_id"] != "inc-old"]


@pytest.mark.parametrize("state", ["succeeded", "failed"])
def test_a_vm_fixed_recently_cools_down_for_the_policys_time(timed_engine, state):
    engine = timed_engine
    _with(engine, cooldown=timedelta(minutes=30))
    _finished_run(engine, "erp-db-01", state, timedelta(minutes=29, seconds=59))
    incident = _diagnose(engine)
    assert _new_runs(engine) == []
    notes = engine.incidents.get(incident["id"])["notes"]
    assert "erp-db-01: cooling down after a recent fix" in notes


def test_the_cool_down_ends_on_time_and_skips_runs_that_did_nothing(timed_engine):
    engine = timed_engine
    _with(engine, cooldown=timedelta(minutes=30))
    _finished_run(engine, "erp-db-01", "succeeded", timedelta(minutes=30))
    for n, state in enumerate(["not-confirmed", "dry-run", "cancelled", "skipped"]):
        _finished_run(engine, f"erp-db-0{n + 2}", state, timedelta(minutes=1))
    for n in range(1, 6):
        _diagnose(engine, f"erp-db-0{n}")
    assert sorted(r["vm"] for r in _new_runs(engine)) == [f"erp-db-0{n}" for n in range(1, 6)]


def test_the_breaker_opens_at_its_count_within_its_window(timed_engine):
    engine = timed_engine
    _with(engine, breaker_failures=2, breaker_window=timedelta(hours=1), cooldown=timedelta(0))
    _finished_run(engine, "old-1", "failed", timedelta(minutes=59))
    _finished_run(engine, "old-2", "failed", timedelta(hours=1))  # just out of the window
    _diagnose(engine, "erp-db-01")
    assert [r["vm"] for r in _new_runs(engine)] == ["erp-db-01"], "one recent failure: closed"
    _finished_run(engine, "old-3", "failed", timedelta(minutes=1))
    incident = _diagnose(engine, "erp-db-02")
    assert [r["vm"] for r in _new_runs(engine)] == ["erp-db-01"]
    notes = engine.incidents.get(incident["id"])["notes"]
    assert "erp-db-02: circuit breaker open: 2 recent failures of diagnose" in notes


def test_the_blast_radius_counts_the_incidents_runs_so_far(timed_engine):
    engine = timed_engine
    _with(engine, max_vms_per_fix=3, max_concurrent_fixes=99)
    for n in range(2):
        engine.ingest(dispose_timeout(f"vm-{n:02}"))
    assert len(engine.runs.all()) == 2
    for n in range(2, 6):
        engine.ingest(dispose_timeout(f"vm-{n:02}"))
    incident = engine.incidents.open_incidents()[0]
    assert sorted(r["vm"] for r in engine.runs.all()) == ["vm-00", "vm-01", "vm-02"]
    assert "over the limit of 3 VMs" in engine.incidents.get(incident["id"])["notes"]


def _set(engine, run_id: str, **fields) -> None:
    engine.store.update("runs", "run", run_id, lambda r: {**r, **fields})


def _recorded_starts(engine) -> list[str]:
    """The runner's start, as far as the engine sees it: the run is queued."""
    started: list[str] = []

    def start(run_id: str) -> None:
        started.append(run_id)
        _set(engine, run_id, state="queued")

    engine.runner.start = start
    return started


def test_concurrency_counts_working_runs_and_confirmed_waiting_ones(engine):
    _with(engine, max_concurrent_fixes=2)
    started = _recorded_starts(engine)
    for n in range(4):
        engine.ingest(dispose_timeout(f"vm-{n:02}"))
    assert len(started) == 2
    first, second = started

    _set(engine, first, state="waiting", confirmed=False)  # waiting on an unconfirmed signal
    engine.start_pending()
    assert len(started) == 3, "an unconfirmed waiting run holds no slot"
    _set(engine, started[2], state="waiting", confirmed=True)
    engine.start_pending()
    assert len(started) == 3, "a confirmed waiting run keeps its slot"
    _set(engine, second, state="succeeded")
    engine.start_pending()
    assert len(started) == 4


def test_peoples_decisions_start_before_automatic_runs_and_outside_windows(timed_engine, clock):
    from datetime import time

    from remediation.policy import Window

    engine = timed_engine
    started = _recorded_starts(engine)
    policy = Policy(approvers=frozenset({APPROVER}), tenant_id=TENANT,
                    limits=Limits(max_concurrent_fixes=1),
                    windows=(Window(("sun",), time(1), time(2)),))  # fmt: skip
    engine._policy = lambda: policy
    engine.ingest(dispose_timeout("vm-auto"))
    engine.ingest(rp_limit_alert("erp-app-03"))
    approval_id = engine.incidents.for_vm("erp-app-03")[0]["approval_id"]
    engine.decide(approval_id, "approve", Approver(APPROVER, "Alice", TENANT))
    (run,) = [r for r in engine.runs.all() if r["vm"] == "erp-app-03"]
    assert started == [run["id"]], "the approved run starts outside the window, the automatic waits"


def test_switches_from_chat_override_the_policy_and_are_audited(timed_engine, clock):
    engine = timed_engine
    base = Policy(approvers=frozenset({APPROVER}), tenant_id=TENANT, paused=True)
    engine._policy = lambda: base
    assert engine.policy().paused and not engine.policy().dry_run
    engine.set_switch("paused", False, "user:ops")
    engine.set_switch("dry_run", True, "user:ops")
    assert (engine.policy().paused, engine.policy().dry_run) == (False, True)
    assert engine.policy().approvers == base.approvers
    audited = [e for e in engine.audit.entries() if e["action"].startswith("set ")]
    assert audited == [
        {"time": iso(clock.now), "actor": "user:ops", "action": "set paused",
         "target": "automation", "result": "ok", "value": False},
        {"time": iso(clock.now), "actor": "user:ops", "action": "set dry_run",
         "target": "automation", "result": "ok", "value": True},
    ]  # fmt: skip
    engine.ingest(dispose_timeout("vm-00"))
    assert engine.runs.all(), "resumed from chat: runs start although the file says paused"


def test_a_pause_stops_pending_runs_from_starting(timed_engine):
    engine = timed_engine
    started = _recorded_starts(engine)
    _with(engine, max_concurrent_fixes=1)
    for n in range(2):
        engine.ingest(dispose_timeout(f"vm-{n:02}"))
    assert len(started) == 1
    engine.set_switch("paused", True, "user:ops")
    _set(engine, started[0], state="succeeded")
    engine.start_pending()
    assert len(started) == 1


def _approve(engine, vm: str) -> dict:
    approval_id = engine.incidents.for_vm(vm)[0]["approval_id"]
    outcome = engine.decide(approval_id, "approve", Approver(APPROVER, "Alice", TENANT))
    assert outcome.accepted, outcome.message
    return outcome.approval


def test_one_approval_starts_no_more_runs_than_the_blast_radius(timed_engine):
    engine = timed_engine
    started = _recorded_starts(engine)
    _with(engine, max_vms_per_fix=3, max_concurrent_fixes=99)
    for n in range(5):
        engine.ingest(rp_limit_alert(f"erp-app-{n:02}"))
    _approve(engine, "erp-app-00")
    runs = engine.runs.all()
    assert len(runs) == 3 and len(started) == 3
    assert {r["state"] for r in runs} == {"queued"}
    assert "over the limit of 3 VMs" in engine.incidents.for_vm("erp-app-00")[0]["notes"]


def test_a_blocked_target_does_not_stop_the_others(timed_engine):
    engine = timed_engine
    _recorded_starts(engine)
    _with(engine, cooldown=timedelta(hours=1))
    engine.runs.add({
        "id": "run-old", "incident_id": "inc-old", "playbook": "cleanup-restore-points",
        "vm": "erp-app-00", "target": {}, "state": "succeeded", "decided_by": "user:x",
        "confirmed": True, "updated": iso(engine.clock() - timedelta(minutes=5)),
    })  # fmt: skip
    for n in range(3):
        engine.ingest(rp_limit_alert(f"erp-app-{n:02}"))
    _approve(engine, "erp-app-00")
    assert sorted(r["vm"] for r in _new_runs(engine)) == ["erp-app-01", "erp-app-02"]


def test_pending_runs_start_together_up_to_the_slots(timed_engine):
    engine = timed_engine
    started = _recorded_starts(engine)
    _with(engine, max_concurrent_fixes=3)
    engine.set_switch("paused", True, "user:ops")
    engine.set_switch("paused", False, "user:ops")
    for n in range(4):
        engine.runs.add({
            "id": f"run-{n}", "incident_id": "inc-x", "playbook": "diagnose", "vm": f"vm-{n}",
            "target": {}, "state": "pending", "decided_by": "policy:auto",
            "created": iso(engine.clock() + timedelta(seconds=n)),
            "updated": iso(engine.clock() + timedelta(seconds=n)),
        })  # fmt: skip
    engine.start_pending()
    assert started == ["run-0", "run-1", "run-2"]
    _set(engine, "run-0", state="running")
    engine.start_pending()
    assert started == ["run-0", "run-1", "run-2"], "a running run holds its slot"


def test_a_person_s_decision_goes_before_older_automatic_runs(timed_engine):
    engine = timed_engine
    started = _recorded_starts(engine)
    _with(engine, max_concurrent_fixes=1)
    for run_id, decided_by, minute in [("run-auto", "policy:auto", 0), ("run-alice", "user:a", 5)]:
        engine.runs.add({
            "id": run_id, "incident_id": "inc-x", "playbook": "diagnose", "vm": run_id,
            "target": {}, "state": "pending", "decided_by": decided_by,
            "created": iso(engine.clock() + timedelta(minutes=minute)),
            "updated": iso(engine.clock() + timedelta(minutes=minute)),
        })  # fmt: skip
    engine.start_pending()
    assert started == ["run-alice"]


def test_outside_the_window_only_peoples_decisions_start(timed_engine):
    from datetime import time

    from remediation.policy import Window

    engine = timed_engine
    started = _recorded_starts(engine)
    closed = Policy(approvers=frozenset({APPROVER}), tenant_id=TENANT,
                    windows=(Window(("sun",), time(1), time(2)),))  # fmt: skip
    engine._policy = lambda: closed
    engine.ingest(dispose_timeout("vm-auto"))
    engine.ingest(rp_limit_alert("erp-app-03"))
    _approve(engine, "erp-app-03")
    assert {r["vm"]: r["state"] for r in engine.runs.all()} == {
        "vm-auto": "pending", "erp-app-03": "queued",
    }  # fmt: skip
    assert (
        "automatic fixes wait for the maintenance window"
        in (engine.incidents.for_vm("vm-auto")[0]["notes"])
    )
    assert len(started) == 1


def test_a_dry_run_switch_alone_keeps_the_files_pause(timed_engine):
    engine = timed_engine
    base = Policy(approvers=frozenset({APPROVER}), tenant_id=TENANT, paused=True, dry_run=True)
    engine._policy = lambda: base
    engine.set_switch("dry_run", False, "user:ops")
    assert (engine.policy().paused, engine.policy().dry_run) == (True, False)
    engine.set_switch("paused", False, "user:ops")
    engine._policy = lambda: Policy(dry_run=True)
    engine.store.update("switches", "switch", "automation", lambda d: {"paused": False})
    assert engine.policy().dry_run is True
