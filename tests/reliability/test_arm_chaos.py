"""ARM chaos: 429 with Retry-After, 500, 503, dropped connections and timeouts at random on
every route. Each fix completes, or ends failed with a clear reason; a lifted lock is always
back; nothing is left half-done; writes stay within the write budget."""

from __future__ import annotations

import pytest

from remediation.replay import REPLAY_APPROVER, engine_on_simulator, estate_for
from remediation.simulator import ArmSimulator, Fault
from tests.engine.signals import rp_limit_alert

VMS = ["erp-app-01", "erp-app-02", "erp-app-03"]
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
    assert len(runs) == len(VMS)
    for run in runs:
        assert run["state"] in {"succeeded", "failed"}, run
        if run["state"] == "failed":
            assert run["failure"], "a failed fix must say why"
        assert run["context"].get("locks_restored") is not None or not run["context"].get("locks")
    assert final["locks"] == initial["locks"], "every lifted lock is back, exactly"
    assert sim.requests.max_writes_in_window(10.0) <= 100
