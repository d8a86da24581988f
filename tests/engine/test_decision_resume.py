"""An approval accepted by a worker that died before it started the fix is carried out by the
next timer run: the approver's click is never lost, and nothing starts twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.engine.conftest import TENANT
from tests.engine.test_approval_decisions import ALICE, _pending


@pytest.fixture
def engine(timed_engine):
    return timed_engine


def _accepted_then_died(engine) -> dict:
    """The click is recorded (what `Approvals.decide` writes) and the worker dies before
    `Engine.decide` starts any run."""
    approval = _pending(engine)
    outcome = engine.approvals.decide(approval["id"], "approve", ALICE, engine.policy(),
                                      "restore-lock")  # fmt: skip
    assert outcome.accepted and TENANT
    assert engine.runs.all() == []
    return approval


def test_a_decision_whose_worker_died_is_carried_out_by_the_timer(engine, clock):
    approval = _accepted_then_died(engine)
    clock.now += timedelta(minutes=5)
    assert engine.resume_decisions() == 1
    (run,) = engine.runs.all()
    assert (run["approval_id"], run["vm"], run["choice"]) == (approval["id"], "erp-app-03",
                                                             "restore-lock")  # fmt: skip
    assert run["decided_by"] == ALICE.object_id
    assert engine.approvals.get(approval["id"])["state"] == "executing"
    assert engine.resume_decisions() == 0
    assert len(engine.runs.all()) == 1


def test_a_decision_being_carried_out_now_is_left_to_its_worker(engine, clock):
    _accepted_then_died(engine)
    clock.now += timedelta(seconds=30)
    assert engine.resume_decisions() == 0
    assert engine.runs.all() == []


def test_a_carried_out_decision_is_not_started_again(engine, clock):
    approval = _pending(engine)
    assert engine.decide(approval["id"], "approve", ALICE, "restore-lock").accepted
    clock.now += timedelta(minutes=5)
    assert engine.resume_decisions() == 0
    assert len(engine.runs.all()) == 1


def test_the_timer_cycle_carries_out_a_lost_decision(engine, clock):
    from remediation.poller import poll

    _accepted_then_died(engine)
    clock.now += timedelta(minutes=5)
    result = poll(engine, {}, lambda subscription: pytest.fail("no vault to read"))
    assert result.decisions == 1
    assert len(engine.runs.all()) == 1
