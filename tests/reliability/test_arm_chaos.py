"""ARM chaos: 429 with Retry-After, 500, 503, dropped connections and timeouts at random on
every route. Each fix completes, or ends failed with a clear reason; a lifted lock is always
back; nothing is left half-done; writes stay within the write budget."""

from __future__ import annotations

import pytest

from devtools.replay import REPLAY_APPROVER, engine_on_simulator, estate_for
from devtools.simulator import ArmSimulator, Fault
from tests.engine.signals import rp_limit_alert
from tests.reliability.summary import record

VMS = ["erp-app-01", "erp-app-02", "erp-app-03"]
WRITE_BUDGET_10S = 100  # the engine's write budget: a bucket of 100 tokens
MENU = [
    Fault(status=429, retry_after=0.01),
    Fault(status=500),
    Fault(status=503),
    Fault(kind="drop"),
    Fault(kind="timeout", hold_seconds=0.6),
]


@pytest.mark.parametrize("seed", range(6))
def test_fixes_under_chaos_finish_cleanly(seed, monkeypatch):
    from remediation.playbooks import cleanup_restore_points

    monkeypatch.setitem(cleanup_restore_points.CONFLICT_RETRY, "initial_wait", 0.01)
    signals = [rp_limit_alert(vm) for vm in VMS]
    with ArmSimulator(estate_for(signals)) as sim:
        engine, arms = engine_on_simulator(
            sim.base_url, sim.ca_path, sim.estate.subscription_id,
            client_options={"read_timeout": 0.3},
        )  # fmt: skip
        initial = sim.estate.to_state()
        sim.faults.chaos(0.25, seed=seed, faults=MENU)
        for signal in signals:
            engine.ingest(signal)
        for approval in engine.approvals.pending():
            engine.decide(approval["id"], "approve", REPLAY_APPROVER)
        engine.queue.drain(engine.runner.handle)
        sim.faults.clear()
        final = sim.estate.to_state()
        arms.close()
    runs = engine.runs.all()
    failed = [run for run in runs if run["state"] == "failed"]
    half_done = [
        run for run in runs if run["state"] not in {"succeeded", "failed"} or _lock_left_off(run)
    ]
    lost_locks = [lock for lock in initial["locks"] if lock not in final["locks"]]
    max_writes = sim.requests.max_writes_in_window(10.0)
    record(
        "arm chaos", fixes=len(runs),
        completed=sum(r["state"] == "succeeded" and r not in half_done for r in runs),
        failed_with_reason=sum(bool(r["failure"]) for r in failed),
        failed_without_reason=sum(not r["failure"] for r in failed), half_done=len(half_done),
        locks_not_restored=len(lost_locks), max_writes_10s=max_writes,
        max_write_budget_10s=WRITE_BUDGET_10S,
        faults_injected=sum(entry.fault is not None for entry in sim.requests.entries()),
    )  # fmt: skip
    assert len(runs) == len(VMS)
    assert half_done == [], half_done
    assert all(run["failure"] for run in failed), "a failed fix must say why"
    assert final["locks"] == initial["locks"], "every lifted lock is back, exactly"
    assert max_writes <= WRITE_BUDGET_10S


def _lock_left_off(run: dict) -> bool:
    """The fix lifted a lock and never recorded putting it back."""
    return bool(run["context"].get("locks")) and run["context"].get("locks_restored") is None
