"""Kill the worker (a real process) after each step in turn: a new one finishes the fix, the
estate ends as after a clean run, and a lifted lock always comes back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from remediation.replay import REPLAY_APPROVER, engine_on_simulator, estate_for
from remediation.simulator import ArmSimulator
from remediation.store import SqliteStore
from tests.engine.signals import rp_limit_alert
from tests.reliability.worker import CRASH_EXIT

VM = "erp-app-03"
CLEANUP_STEPS = 7  # find, record, lift, delete, restore locks, trigger backup, follow it


def _worker(sim, store_path, die_after: int) -> tuple[int, str]:
    command = [
        sys.executable, "-m", "tests.reliability.worker", str(store_path), sim.base_url,
        sim.ca_path, sim.estate.subscription_id, str(die_after),
    ]  # fmt: skip
    done = subprocess.run(command, timeout=120, check=False, capture_output=True, text=True)
    return done.returncode, done.stdout.strip()


def _comparable(state):
    """The estate without generated names, times and ids."""
    return {
        "locks": state["locks"],
        "collections": sorted(
            (c["resource_group"], c["source_vm_id"].lower(), len(c["restore_points"]))
            for c in state["restore_point_collections"]
        ),
        "backups": sorted(r["vm"] for r in state["backup_requests"]),
    }


def _approved_fix(sim, store_path) -> None:
    engine, arms = engine_on_simulator(
        sim.base_url, sim.ca_path, sim.estate.subscription_id, store=SqliteStore(store_path)
    )
    engine.ingest(rp_limit_alert(VM))
    (approval,) = engine.approvals.pending()
    assert engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
    arms.close()  # this process never runs the fix: the workers do


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    with ArmSimulator(estate_for([rp_limit_alert(VM)])) as sim:
        initial = sim.estate.to_state()
        store = tmp_path_factory.mktemp("clean") / "store.db"
        _approved_fix(sim, store)
        assert _worker(sim, store, -1) == (0, f"steps={CLEANUP_STEPS}")
        return initial, _comparable(sim.estate.to_state())


@pytest.mark.parametrize("die_after", range(CLEANUP_STEPS))
def test_cleanup_survives_a_crash_after_each_step(tmp_path, clean_run, die_after):
    initial, expected = clean_run
    with ArmSimulator(estate_for([rp_limit_alert(VM)])) as sim:
        store = tmp_path / "store.db"
        _approved_fix(sim, store)
        assert _worker(sim, store, die_after)[0] == CRASH_EXIT
        assert _worker(sim, store, -1)[0] == 0
        final = sim.estate.to_state()
    assert final["locks"] == initial["locks"]
    assert _comparable(final) == expected
    (run,) = [r.data for r in SqliteStore(store).query("runs")]
    assert run["state"] == "succeeded", run["failure"]
