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


def _without(*vms: str):
    """Azure has no such VMs: their fixes fail at the first check, writing nothing."""
    return lambda estate: [
        estate.vms.pop(k) for k in list(estate.vms) if k.rsplit("/", 1)[-1] in vms
    ]


def _card(engine, incident_id: str) -> str:
    from bot.incident_card import incident_card
    from tests.bot_app.test_incident_flow import texts

    return texts(incident_card(engine.view(incident_id)))


def test_a_vm_whose_fix_failed_then_recovered_alone_is_healthy_and_the_incident_settles(
    pipeline,
):
    signals = [rp_limit_alert("erp-app-03"), rp_limit_alert("erp-app-04", alert_no=2)]
    p = pipeline(signals, prepare=_without("erp-app-04"))
    states = {r["vm"]: r["state"] for r in p.runs()}
    assert states == {"erp-app-03": "succeeded", "erp-app-04": "failed"}
    incident_id = p.runs()[0]["incident_id"]
    escalated = p.engine.act("escalate", {"incidentId": incident_id}, REPLAY_APPROVER)
    assert escalated.outcome.accepted
    p.engine.ingest(rp_limit_alert("erp-app-04", alert_no=2, resolved=True), from_azure=True)

    found = _state(p.engine, incident_id)
    assert found.of("erp-app-04").outcome == "recovered"  # Azure's word is newer than the run
    assert (found.state, found.why, found.failing) == ("resolved", "fixed", 0)
    incident = p.engine.incidents.get(incident_id)
    assert incident["status"] == "resolved"
    assert incident["resolution"] == {"why": "fixed"}
    assert p.engine.incidents.open_incidents() == []  # `status` no longer lists it
    said = _card(p.engine, incident_id)
    assert "Fixed: Azure shows the fix worked for erp-app-03." in said
    assert "Healthy again without a fix: erp-app-04." in said
    assert "worked for erp-app-03, erp-app-04" not in said
    assert "erp-app-04  Clean up restore points · fix failed" in said  # the run as it ended


def test_an_incident_closed_by_azure_records_why_for_the_digest(pipeline):
    p = pipeline([rp_limit_alert("erp-app-04")], prepare=_without("erp-app-04"))
    (run,) = p.runs()
    assert run["state"] == "failed"
    p.engine.ingest(rp_limit_alert("erp-app-04", resolved=True), from_azure=True)
    incident = p.engine.incidents.get(run["incident_id"])
    assert incident["resolution"] == {"why": "recovered"}
    said = _card(p.engine, run["incident_id"])
    assert "Resolved: Azure reports erp-app-04 healthy again." in said
    assert "erp-app-04 (healthy again)" in said


def test_an_approval_that_cannot_start_says_its_own_reason_not_other_notes(pipeline):
    signals = [rp_limit_alert("erp-app-03"), rp_limit_alert("erp-app-04", alert_no=2)]
    p = pipeline(signals, prepare=_without("erp-app-04"))  # 03 fixed, its lock noted; 04 failed
    p.engine.ingest(rp_limit_alert("erp-app-01", alert_no=3))  # joins after the decision
    [approval] = p.engine.approvals.pending()
    p.engine.set_switch("paused", True, "user:someone")
    assert p.engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
    after = p.engine.approvals.get(approval["id"])
    assert after["state"] == "not-started"
    assert after["note"] == "automation is paused"


def test_a_fix_retried_by_a_person_says_who_retried_it_once_it_worked(pipeline):
    vm, missing = "hr-app-07", {}

    def without_the_vm(estate):
        missing.update({k: estate.vms.pop(k) for k in list(estate.vms) if k.endswith("/" + vm)})

    p = pipeline([rp_limit_alert(vm)], prepare=without_the_vm)
    (failed,) = p.runs()
    assert failed["state"] == "failed"
    p.sim.estate.vms.update(missing)  # a person fixed what stopped the fix
    retried = p.engine.act("retry", {"runId": failed["id"]}, REPLAY_APPROVER)
    assert retried.outcome.accepted, retried.outcome.message
    p.engine.queue.drain(p.engine.runner.handle)
    again = next(r for r in p.runs() if r.get("retry_of"))
    assert again["state"] == "succeeded", again["failure"]
    assert again["retried_by"]["name"] == "Replay approver"
    said = _card(p.engine, failed["incident_id"])
    assert said.startswith("RESOLVED")
    assert "retried by Replay approver" in said
    french = p.engine.view(failed["incident_id"])
    french["incident"]["language"] = "fr"
    from bot.incident_card import incident_card
    from tests.bot_app.test_incident_flow import texts

    assert "relancée par Replay approver" in texts(incident_card(french))
