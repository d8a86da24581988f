"""Approval attacks: only a fresh decision by an approver of the home tenant counts."""

from __future__ import annotations

import threading
from datetime import timedelta

from remediation.approvals import Approver
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import rp_limit_alert
from tests.reliability.summary import record

ALICE = Approver(APPROVER, "Alice Admin", TENANT)


def _pending(engine) -> str:
    engine.ingest(rp_limit_alert())
    return engine.incidents.open_incidents()[0]["approval_id"]


def _audited_decisions(engine) -> list[dict]:
    return [e for e in engine.audit.entries() if e["action"].startswith("approval")]


def record_attacks(engine, attempts: int, accepted: int, legit: int = 0) -> None:
    """Tally attacks for the run's summary; `legit` genuine decisions are not counted."""
    audited = len(_audited_decisions(engine)) - legit
    record("approval attacks", attempts=attempts - legit, accepted=accepted - legit,
           audited=audited)  # fmt: skip


def test_forged_id_wrong_tenant_and_non_approver_are_refused_and_audited(engine):
    approval_id = _pending(engine)
    attempts = [
        ("apr-forged", ALICE),
        (
            approval_id,
            Approver(APPROVER, "Alice elsewhere", "33333333-0000-0000-0000-000000000000"),
        ),
        (approval_id, Approver("99999999-9999-9999-9999-999999999999", "Mallory", TENANT)),
        (approval_id, Approver(None, "anonymous", TENANT)),
    ]
    outcomes = [engine.decide(given_id, "approve", who) for given_id, who in attempts]
    record_attacks(engine, len(outcomes), sum(o.accepted for o in outcomes))
    assert not any(o.accepted for o in outcomes)
    assert engine.approvals.get(approval_id)["state"] == "pending"
    assert [e["result"] for e in _audited_decisions(engine)] == ["refused"] * 4


def test_replayed_approval_changes_nothing(engine):
    approval_id = _pending(engine)
    engine.runner.start = lambda run_id: None  # keep fixes queued only
    first = engine.decide(approval_id, "reject", ALICE)
    again = engine.decide(approval_id, "approve", ALICE)
    record_attacks(engine, 2, first.accepted + again.accepted, legit=1)
    assert first.accepted and not again.accepted
    assert "Already rejected by Alice Admin" in again.message
    assert engine.approvals.get(approval_id)["state"] == "rejected"
    assert engine.runs.all() == []


def test_expired_approval_is_refused(engine):
    approval_id = _pending(engine)
    later = engine.clock() + timedelta(hours=25)
    engine.approvals._clock = lambda: later
    outcome = engine.decide(approval_id, "approve", ALICE)
    record_attacks(engine, 1, outcome.accepted)
    assert not outcome.accepted and "expired" in outcome.message
    assert engine.approvals.get(approval_id)["state"] == "expired"


def test_concurrent_double_click_accepts_exactly_one(engine):
    approval_id = _pending(engine)
    outcomes, barrier = [], threading.Barrier(8)

    def click():
        barrier.wait()
        outcomes.append(engine.approvals.decide(approval_id, "snooze", ALICE, engine.policy()))

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record_attacks(engine, len(outcomes), sum(o.accepted for o in outcomes), legit=1)
    assert sum(o.accepted for o in outcomes) == 1
    assert engine.approvals.get(approval_id)["state"] == "snoozed"
