from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.replay import REPLAY_APPROVER, estate_for, simulated_engine
from remediation.playbooks import cleanup_restore_points
from tests.simulator_fixtures import arm_clients, arm_simulator, sim  # noqa: F401

# The longest fix in these tests takes under 100 messages; one that never ends fails at once
# instead of running until a timeout.
MAX_MESSAGES = 200


@pytest.fixture(autouse=True)
def fast_conflict_retry(monkeypatch):
    monkeypatch.setitem(cleanup_restore_points.CONFLICT_RETRY, "initial_wait", 0.01)


@dataclass
class Pipeline:
    engine: Any
    sim: Any
    initial: dict[str, Any]

    def runs(self) -> list[dict[str, Any]]:
        return self.engine.runs.all()


@pytest.fixture
def pipeline():
    """run(signals, approve=..., behaviour=..., faults=..., prepare=...) -> Pipeline, on a fresh
    simulator; `prepare(estate)` adds to or breaks the estate derived from the signals."""
    with ExitStack() as stack:

        def run(
            signals, approve=True, behaviour=None, policy=None, faults=None, prepare=None,
            choice=None,
        ) -> Pipeline:  # fmt: skip
            estate = estate_for(signals)
            if prepare:
                prepare(estate)
            if behaviour:
                estate.behaviour = behaviour
            engine, sim = stack.enter_context(simulated_engine(estate, policy=policy))
            if faults:
                faults(sim.faults)
            initial = sim.estate.to_state()
            for signal in signals:
                engine.ingest(signal)
            if approve:
                for approval in engine.approvals.pending():
                    decided = engine.decide(approval["id"], "approve", REPLAY_APPROVER, choice)
                    assert decided.accepted, decided.message
            engine.queue.drain(engine.runner.handle, max_messages=MAX_MESSAGES)
            assert len(engine.queue) == 0, "a fix never ended: its steps kept being rescheduled"
            return Pipeline(engine, sim, initial)

        yield run
