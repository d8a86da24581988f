"""Approval attacks: only a fresh decision by an approver of the home tenant counts."""

from __future__ import annotations

import threading
from datetime import timedelta

from remediation.approvals import Approver
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import rp_limit_alert

ALICE = Approver(APPROVER, "Alice Admin", TENANT)


def _pending(engine) -> str:
    engine.ingest(rp_limit_alert())
    return engine.incidents.open_incidents()[0]["approval_id"]


def _refusals(engine) -> list[dict]:
    return [e for e in engine.audit.entries() if e["action"].startswith("approval")]


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
    for given_id, who in attempts:
        assert not engine.decide(given_id, "approve", who).accepted
    assert engine.approvals.get(approval_id)["state"] == "pending"
    assert [e["result"] for e in _refusals(engine)] == ["refused"] * 4


def test_replayed_approval_changes_nothing(engine):
    approval_id = _pending(engine)
    engine.runner.start = lambda run_id: None  # keep fixes queued only
    first = engine.decide(approval_id, "reject", ALICE)
    again = engine.decide(approval_id, "approve", ALICE)
    assert first.accepted and not again.accepted
    assert "Already rejected by Alice Admin" in again.message
    assert engine.approvals.get(approval_id)["state"] == "rejected"
    assert engine.runs.all() == []


def test_expired_approval_is_refused(engine):
    approval_id = _pending(engine)
    later = engine.clock() + timedelta(hours=25)
    engine.approvals._clock = lambda: later
    outcome = engine.decide(approval_id, "approve", ALICE)
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
    assert sum(o.accepted for o in outcomes) == 1
    assert engine.approvals.get(approval_id)["state"] == "snoozed"
