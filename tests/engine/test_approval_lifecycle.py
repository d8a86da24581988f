"""An approval's state moves only from where it may: concurrent workers and late timers cannot
overturn a decision a person made, and waking a snoozed one asks afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediation.clock import iso
from tests.engine.test_approval_decisions import ALICE, _pending


@pytest.fixture
def engine(timed_engine):
    return timed_engine


def _state(engine, approval) -> str:
    return engine.approvals.get(approval["id"])["state"]


def test_a_snoozed_approval_woken_asks_afresh_with_a_new_expiry(engine, clock):
    approval = _pending(engine)
    assert engine.decide(approval["id"], "snooze", ALICE).accepted
    clock.now += timedelta(hours=2)
    assert engine.act("unsnooze", {"approvalId": approval["id"]}, ALICE).outcome.accepted
    woken = engine.approvals.get(approval["id"])
    assert (woken["state"], woken["snoozed_until"], woken["decided_by"], woken["decided_at"]) == (
        "pending", None, None, None,
    )  # fmt: skip
    assert woken["expires"] == iso(clock.now + engine.policy().approval_ttl)


def test_a_snoozed_approval_is_withdrawn_when_the_failure_clears(engine):
    from tests.engine.signals import rp_limit_alert

    approval = _pending(engine)
    assert engine.decide(approval["id"], "snooze", ALICE).accepted
    engine.ingest(rp_limit_alert("erp-app-03", resolved=True), from_azure=True)
    assert _state(engine, approval) == "withdrawn"


def test_a_decided_approval_is_neither_withdrawn_superseded_nor_expired(engine, clock):
    approval = _pending(engine)
    assert engine.decide(approval["id"], "approve", ALICE, "restore-lock").accepted
    decided = _state(engine, approval)
    clock.now += timedelta(days=2)  # past its expiry
    engine.approvals.withdraw(approval["id"], "the failure cleared in Azure")
    assert engine.approvals.supersede(approval["id"]) is False
    engine.approvals.expire(approval["id"])
    assert _state(engine, approval) == decided == "executing"


def test_a_click_past_the_expiry_is_not_accepted(engine, clock):
    approval = _pending(engine)
    clock.now += timedelta(days=2)
    outcome = engine.decide(approval["id"], "approve", ALICE)
    assert outcome.accepted is False and engine.runs.all() == []


def test_an_executing_decision_whose_worker_died_before_its_runs_is_carried_out(engine, clock):
    approval = _pending(engine)
    assert engine.approvals.decide(approval["id"], "approve", ALICE, engine.policy(),
                                   "restore-lock").accepted  # fmt: skip
    engine.approvals.set_state(approval["id"], "executing")  # then the worker died
    clock.now += timedelta(minutes=5)
    assert engine.resume_decisions() == 1 and len(engine.runs.all()) == 1


def test_a_forged_long_approval_id_is_audited_cut_to_80_characters(engine):
    forged = "apr-" + "x" * 200
    assert not engine.decide(forged, "approve", ALICE).accepted
    (entry,) = [e for e in engine.audit.entries() if e["action"] == "approval approve"]
    assert entry["target"] == forged[:80]
