"""The incident's life after its first card, against the ARM simulator: on-call actions that
must be refused while a fix is under way or after the incident closed, and what the card,
`status` and the digest say once fixes failed, were retried, or the VMs recovered alone."""

from __future__ import annotations

from datetime import timedelta

from devtools.replay import REPLAY_APPROVER
from remediation.outcomes import assess
from tests.engine.signals import rp_limit_alert


def _state(engine, incident_id: str):
    view = engine.view(incident_id)
    return assess(view["incident"], view["runs"], view["approvals"], engine.clock())


def _accepted_by_a_worker_that_died(engine) -> dict:
    """An approval approved whose worker died before it started the fix: the card says
    FIXING and the timer's `resume_decisions` will start it."""
    [approval] = engine.approvals.pending()
    decided = engine.approvals.decide(approval["id"], "approve", REPLAY_APPROVER, engine.policy())
    assert decided.accepted
    assert engine.runs.all() == []
    assert _state(engine, approval["incident_id"]).state == "fixing"
    return approval


def test_resolving_by_hand_is_refused_while_an_approved_fix_is_about_to_start(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], approve=False)
    approval = _accepted_by_a_worker_that_died(p.engine)
    data = {"incidentId": approval["incident_id"], "note": "cleaned it up by hand"}
    acted = p.engine.act("resolve", data, REPLAY_APPROVER)
    assert not acted.outcome.accepted
    assert "still running" in acted.outcome.message
    assert p.engine.incidents.get(approval["incident_id"])["status"] == "open"


def test_an_approved_fix_never_starts_once_its_incident_closed(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], approve=False)
    approval = _accepted_by_a_worker_that_died(p.engine)
    p.engine.ingest(rp_limit_alert("erp-app-03", resolved=True), from_azure=True)
    assert p.engine.incidents.get(approval["incident_id"])["status"] == "resolved"
    p.engine.resume_decisions(older_than=timedelta(0))
    p.engine.queue.drain(p.engine.runner.handle)
    assert p.engine.runs.all() == []
    assert p.sim.requests.writes == 0
    after = p.engine.approvals.get(approval["id"])
    assert after["state"] == "withdrawn"
    assert "closed before the fix started" in after["note"]
