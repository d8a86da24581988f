"""On-call actions on a card: acknowledge, assign, resolve by hand, escalate, un-snooze.
Checked like approvals, audited, carrying ids only; and the incident state they lead to."""

from __future__ import annotations

import pytest

from remediation.approvals import Approver
from remediation.outcomes import assess
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import rp_limit_alert

ALICE = Approver(APPROVER, "Alice Admin", TENANT)
MALLORY = Approver("99999999-9999-9999-9999-999999999999", "Mallory", TENANT)
ELSEWHERE = Approver(APPROVER, "Alice elsewhere", "33333333-0000-0000-0000-000000000000")


def _incident(engine, vm: str = "erp-app-03") -> dict:
    return engine.incidents.get(engine.ingest(rp_limit_alert(vm)).incident_id)


def _state(engine, incident_id: str):
    view = engine.view(incident_id)
    return assess(view["incident"], view["runs"], view["approvals"], engine.clock())


def _audited(engine) -> list[tuple[str, str]]:
    return [(e["action"], e["result"]) for e in engine.audit.entries()
            if e["action"].startswith("on-call")]  # fmt: skip


def test_a_new_incident_waiting_for_its_approval_is_open(engine):
    incident = _incident(engine)
    found = _state(engine, incident["id"])
    assert (found.state, found.why) == ("open", "awaiting-approval")
    assert found.of("erp-app-03").outcome == "awaiting-approval"


def test_acknowledge_then_assign_show_who_owns_it(engine):
    incident = _incident(engine)
    first = engine.act("acknowledge", {"incidentId": incident["id"]}, ALICE)
    again = engine.act("acknowledge", {"incidentId": incident["id"]}, ALICE)
    assert first.outcome.accepted and not again.outcome.accepted
    assert "Already acknowledged by Alice Admin" in again.outcome.message
    doc = engine.incidents.get(incident["id"])
    assert doc["acknowledged"]["name"] == doc["owner"]["name"] == "Alice Admin"
    bob = Approver(APPROVER, "Bob Oncall", TENANT)
    engine.policy = lambda: engine._policy()  # same approver id, another display name
    mine = engine.act("assign", {"incidentId": incident["id"]}, bob)
    assert not mine.outcome.accepted  # the same person (by id) owns it already
    assert _audited(engine) == [("on-call acknowledge", "accepted"),
                                ("on-call acknowledge", "refused"),
                                ("on-call assign", "refused")]  # fmt: skip


@pytest.mark.parametrize("who", [MALLORY, ELSEWHERE, Approver(None, "anonymous", TENANT)])
@pytest.mark.parametrize("verb", ["acknowledge", "assign", "resolve", "escalate"])
def test_people_who_may_not_approve_may_not_act_either(engine, who, verb):
    incident = _incident(engine)
    acted = engine.act(verb, {"incidentId": incident["id"], "note": "done by hand"}, who)
    assert not acted.outcome.accepted
    assert acted.incident_id == incident["id"]  # their card says why
    after = engine.incidents.get(incident["id"])
    assert after["status"] == "open"
    assert not after.get("owner") and not after.get("escalated")
    assert _audited(engine) == [(f"on-call {verb}", "refused")]


@pytest.mark.parametrize(
    "data", [{}, {"incidentId": "inc-forged"}, {"incidentId": 42}, {"incidentId": "x" * 999}]
)
def test_a_forged_or_missing_incident_id_changes_nothing(engine, data):
    incident = _incident(engine)
    acted = engine.act("resolve", {**data, "note": "done"}, ALICE)
    assert not acted.outcome.accepted and "does not exist" in acted.outcome.message
    assert engine.incidents.get(incident["id"])["status"] == "open"


def test_resolve_by_hand_needs_a_note_closes_the_incident_and_withdraws_its_approval(engine):
    incident = _incident(engine)
    bare = engine.act("resolve", {"incidentId": incident["id"], "note": "  "}, ALICE)
    assert not bare.outcome.accepted and "note" in bare.outcome.message
    note = "Removed the lock by hand\nand ran a backup\x07"
    done = engine.act("resolve", {"incidentId": incident["id"], "note": note}, ALICE)
    assert done.outcome.accepted
    doc = engine.incidents.get(incident["id"])
    assert doc["status"] == "resolved"
    assert doc["resolution"] == {
        "why": "by-hand",
        "by": {"id": APPROVER, "name": "Alice Admin", "at": doc["resolved_at"]},
        "note": "Removed the lock by hand and ran a backup",
    }
    approval = engine.approvals.get(incident["approval_id"])
    assert approval["state"] == "withdrawn" and "by hand" in approval["note"]
    assert (_state(engine, incident["id"]).state, _state(engine, incident["id"]).why) == (
        "resolved",
        "by-hand",
    )
    late = engine.decide(incident["approval_id"], "approve", ALICE)
    assert not late.accepted and "withdrawn" in late.message
    assert engine.runs.all() == []
    assert engine.incidents.open_incidents() == []


def test_resolving_waits_for_a_running_fix(engine):
    incident = _incident(engine)
    engine.runner.start = lambda run_id: None  # keep the fix pending
    assert engine.decide(incident["approval_id"], "approve", ALICE).accepted
    acted = engine.act("resolve", {"incidentId": incident["id"], "note": "fixed it"}, ALICE)
    assert not acted.outcome.accepted and "still running" in acted.outcome.message
    assert _state(engine, incident["id"]).state == "fixing"


def test_escalate_withdraws_the_approval_and_stops_automation_for_newcomers(engine):
    incident = _incident(engine)
    acted = engine.act("escalate", {"incidentId": incident["id"]}, ALICE)
    assert acted.outcome.accepted
    assert engine.approvals.get(incident["approval_id"])["state"] == "withdrawn"
    engine.ingest(rp_limit_alert("erp-app-04"))
    doc = engine.incidents.get(incident["id"])
    assert doc["vms"] == ["erp-app-03", "erp-app-04"]
    assert [a["state"] for a in engine.approvals.all_for(incident["id"])] == ["withdrawn"]
    found = _state(engine, incident["id"])
    assert (found.state, found.why) == ("needs-attention", "escalated")


def test_snooze_then_unsnooze_asks_for_the_same_frozen_decision_again(engine):
    incident = _incident(engine)
    approval_id = incident["approval_id"]
    assert engine.decide(approval_id, "snooze", ALICE).accepted
    assert _state(engine, incident["id"]).state == "snoozed"
    frozen = engine.approvals.get(approval_id)["targets"]
    woke = engine.act("unsnooze", {"approvalId": approval_id}, ALICE)
    assert woke.outcome.accepted and woke.incident_id == incident["id"]
    approval = engine.approvals.get(approval_id)
    assert approval["state"] == "pending" and approval["targets"] == frozen
    assert _state(engine, incident["id"]).state == "open"
    twice = engine.act("unsnooze", {"approvalId": approval_id}, ALICE)
    assert not twice.outcome.accepted and "not snoozed" in twice.outcome.message


def test_a_resolved_signal_withdraws_the_pending_approval(engine):
    incident = _incident(engine)
    engine.ingest(rp_limit_alert("erp-app-03", resolved=True), from_azure=True)
    doc = engine.incidents.get(incident["id"])
    assert doc["status"] == "resolved"
    approval = engine.approvals.get(incident["approval_id"])
    assert approval["state"] == "withdrawn" and "cleared" in approval["note"]
    found = _state(engine, incident["id"])
    assert (found.state, found.why) == ("resolved", "recovered")


def test_an_unknown_verb_is_refused_and_audited(engine):
    incident = _incident(engine)
    acted = engine.act("delete-everything", {"incidentId": incident["id"]}, ALICE)
    assert not acted.outcome.accepted
    assert _audited(engine) == [("on-call delete-everything", "refused")]
