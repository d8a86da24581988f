"""A worker that outlived its lease must not write: its ARM writes are fenced on the run's epoch.

The case from first contact with reality: a worker's DELETE of a lock is throttled (429,
Retry-After), another worker takes the run over meanwhile, finishes the fix and puts the lock
back, and then the first worker's retry lands: no lock, and a run that says it succeeded.
The fence checks, right before each write attempt on the wire, that the run is still this
worker's; the late retry is refused before it reaches Azure.
"""

from __future__ import annotations

import threading
import time

import pytest

from devtools.replay import REPLAY_APPROVER, engine_on_simulator, estate_for
from devtools.simulator import ArmSimulator
from remediation.playbooks import PLAYBOOKS, cleanup_restore_points
from remediation.queue.base import StepMessage
from remediation.store import SqliteStore
from tests.engine.signals import rp_limit_alert
from tests.reliability.summary import record

RETRY_AFTER = 3.0
LIFT = PLAYBOOKS["cleanup-restore-points"].index_of("lift-locks")


@pytest.fixture(autouse=True)
def fast_conflict_retry(monkeypatch):
    monkeypatch.setitem(cleanup_restore_points.CONFLICT_RETRY, "initial_wait", 0.01)


def _worker(sim: ArmSimulator, path) -> tuple[object, object]:
    return engine_on_simulator(
        sim.base_url, sim.ca_path, sim.estate.subscription_id, store=SqliteStore(path)
    )


def test_a_throttled_lock_delete_from_a_stale_worker_never_lands(tmp_path):
    signal = rp_limit_alert("erp-app-03")
    with ArmSimulator(estate_for([signal])) as sim:
        initial = sim.estate.to_state()["locks"]
        (stale, stale_arms), (fresh, fresh_arms) = (
            _worker(sim, tmp_path / "s.db"),
            _worker(sim, tmp_path / "s.db"),
        )
        stale.ingest(signal)
        (approval,) = stale.approvals.pending()
        assert stale.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
        held: list[StepMessage] = []

        def until_the_lift(message) -> None:
            if isinstance(message, StepMessage) and message.step == LIFT:
                held.append(message)
            else:
                stale.handle(message)

        stale.queue.drain(until_the_lift)
        (lift,) = held
        sim.faults.throttle("locks.delete", retry_after=RETRY_AFTER, times=1)
        worker = threading.Thread(target=stale.runner.handle, args=(lift,))
        worker.start()
        deadline = time.monotonic() + 10
        while not any(e.status == 429 for e in sim.requests.entries()):
            assert time.monotonic() < deadline, "the stale worker's DELETE was never throttled"
            time.sleep(0.02)

        # The stale worker waits out Retry-After; another worker takes the run over and ends it.
        assert fresh.runner.resume_stale(sole_worker=True)
        fresh.queue.drain(fresh.handle)
        (run,) = fresh.runs.all()
        assert run["state"] == "succeeded", run["failure"]
        restored_at = max(e.at for e in sim.requests.entries() if e.route == "locks.put")
        worker.join(RETRY_AFTER + 10)

        late = [
            e for e in sim.requests.entries() if e.route == "locks.delete" and e.at > restored_at
        ]
        final = sim.estate.to_state()["locks"]
        record(
            "stale worker", tries=1, stale_writes=len(late), locks_left_off=int(final != initial)
        )
        assert late == [], "the stale worker's retry reached Azure"
        assert final == initial
        assert fresh.runs.get(run["id"])["state"] == "succeeded"
        stale_arms.close()
        fresh_arms.close()
