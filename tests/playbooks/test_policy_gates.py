"""The policy bounds every write of a fix, not only its start: on the ARM simulator, a pause
flipped while a fix waits on a scheduled message, a maintenance window that closes mid-fix, a
circuit breaker that opens while another VM's fix is queued, and a dry run switched on after
the approval each stop the writes they should, while compensation (the lock put back) still
happens."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, time

from devtools.replay import REPLAY_APPROVER, estate_for, simulated_engine
from remediation.policy import Limits, Policy, Rule, Window
from tests.engine.signals import rp_limit_alert
from tests.playbooks.test_agent_ready import _vm_state
from tests.playbooks.test_backup_rounds import ROOMY
from tests.playbooks.test_playbooks import INTERNAL, _backup_error, _writes

MONDAY_0100 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
EVERY_NIGHT = Window(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), time(1), time(3))
BOUND = 60  # messages: a held fix re-checks forever, so each drain is bounded


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _policy(**changes) -> Policy:
    return Policy(approvers=frozenset({REPLAY_APPROVER.object_id}),
                  tenant_id=REPLAY_APPROVER.tenant_id, **changes)  # fmt: skip


@contextmanager
def _engine(signals, policy: Policy, clock: Clock, behaviour=None, prepare=None):
    estate = estate_for(signals)
    if behaviour:
        estate.behaviour = behaviour
    if prepare:
        prepare(estate)
    with simulated_engine(estate, policy=policy, clock=clock) as (engine, sim):
        yield engine, sim


def _step_until(engine, done) -> None:
    for _ in range(BOUND):
        if done():
            return
        assert engine.queue.drain(engine.runner.handle, max_messages=1), "the queue ran dry"
    raise AssertionError("never reached")


def _passed(run, step: str) -> bool:
    return any(j["step"] == step and j["phase"] == "next" for j in run["journal"])


def _only_run(engine):
    (run,) = engine.runs.all()
    return run


def _backups(sim, vm: str) -> list:
    return [r for r in sim.estate.to_state()["backup_requests"] if r["vm"] == vm]


def test_a_pause_flipped_while_a_fix_waits_holds_its_writes_until_resumed():
    clock = Clock(MONDAY_0100)
    signal = _backup_error("erp-app-05", INTERNAL)
    with _engine([signal], _policy(), clock, behaviour=ROOMY) as (engine, sim):
        engine.ingest(signal)
        _step_until(engine, lambda: _only_run(engine)["state"] == "waiting")  # the settle wait
        engine.set_switch("paused", True, "user:ops")
        engine.queue.drain(engine.runner.handle, max_messages=BOUND)
        run = _only_run(engine)
        assert _writes(engine) == [] and _backups(sim, "erp-app-05") == []
        assert run["state"] == "waiting"
        assert "automation is paused" in run["journal"][-1].get("note", "")
        engine.set_switch("paused", False, "user:ops")
        engine.queue.drain(engine.runner.handle, max_messages=BOUND)
        assert _only_run(engine)["state"] == "succeeded"
        assert len(_backups(sim, "erp-app-05")) == 1


@contextmanager
def _window_closing_after(step: str):
    """An automatic cleanup started in the night's window, which closes once `step` is done;
    yields (engine, sim, the estate before the fix, the clock)."""
    clock = Clock(MONDAY_0100)
    signal = rp_limit_alert("erp-app-03")
    auto = Rule("auto", entry="rp-collection-limit-reached")
    policy = _policy(rules=(auto,), lift_locks="auto", windows=(EVERY_NIGHT,))
    with _engine([signal], policy, clock) as (engine, sim):
        initial = sim.estate.to_state()
        engine.ingest(signal)
        _step_until(engine, lambda: _passed(_only_run(engine), step))
        clock.now = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)  # the window closes
        engine.queue.drain(engine.runner.handle, max_messages=BOUND)
        yield engine, sim, initial, clock


def test_an_automatic_fix_not_yet_written_waits_for_the_next_window_to_lift_the_lock():
    with _window_closing_after("record-locks") as (engine, sim, initial, clock):
        assert _writes(engine) == []
        assert sim.estate.to_state()["locks"] == initial["locks"]
        assert "outside the maintenance window" in _only_run(engine)["journal"][-1]["note"]
        clock.now = datetime(2026, 5, 5, 1, 0, tzinfo=UTC)  # the next night
        engine.queue.drain(engine.runner.handle, max_messages=BOUND * 3)
        run = _only_run(engine)
        assert run["state"] == "succeeded", run["failure"]


def test_a_window_that_closes_mid_fix_stops_new_writes_and_puts_the_lock_back():
    with _window_closing_after("lift-locks") as (engine, sim, initial, _clock):
        run = _only_run(engine)
        assert run["state"] == "failed"
        assert "maintenance window" in run["failure"]
        actions = [w["action"].rsplit("/", 2)[-2:] for w in _writes(engine)]
        assert actions == [["locks", "delete"], ["locks", "write"]]  # lifted, then put back
        assert _backups(sim, "erp-app-03") == []
        assert sim.estate.to_state()["locks"] == initial["locks"]


def test_a_breaker_that_opens_holds_the_fix_queued_behind_the_failure():
    clock = Clock(MONDAY_0100)
    signals = [_backup_error(vm, INTERNAL) for vm in ("erp-app-05", "erp-app-06")]
    policy = _policy(limits=Limits(max_concurrent_fixes=1, breaker_failures=1))
    broken = _vm_state(agent_ready=False)  # erp-app-05's fix fails after Azure confirmed it
    with _engine(signals, policy, clock, behaviour=ROOMY, prepare=broken) as (engine, sim):
        for signal in signals:
            engine.ingest(signal)
        engine.queue.drain(engine.runner.handle, max_messages=BOUND)
        by_vm = {r["vm"]: r for r in engine.runs.all()}
        assert by_vm["erp-app-05"]["state"] == "failed"
        assert by_vm["erp-app-06"]["state"] == "pending"
        assert _backups(sim, "erp-app-06") == []


def test_dry_run_switched_on_after_the_approval_writes_nothing():
    clock = Clock(MONDAY_0100)
    signal = rp_limit_alert("erp-app-03")
    with _engine([signal], _policy(), clock) as (engine, sim):
        initial = sim.estate.to_state()
        engine.ingest(signal)
        (approval,) = engine.approvals.pending()
        assert engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
        engine.set_switch("dry_run", True, "user:ops")
        engine.queue.drain(engine.runner.handle, max_messages=BOUND)
        assert _only_run(engine)["state"] == "dry-run"
        assert _writes(engine) == [] and sim.estate.to_state()["locks"] == initial["locks"]
