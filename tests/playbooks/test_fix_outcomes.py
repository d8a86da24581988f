"""What a card can truthfully say after a fix, against the ARM simulator: the incident state
derived from each VM's run, the evidence behind a failure, and the actions that follow one
(retry, the other fix)."""

from __future__ import annotations

from devtools.replay import REPLAY_APPROVER
from remediation.outcomes import assess
from remediation.policy import Policy
from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload, rp_limit_alert
from tests.playbooks.test_playbooks import APPROVERS, INTERNAL, _backup_error, few_points


def _state(engine, incident_id: str):
    view = engine.view(incident_id)
    return assess(view["incident"], view["runs"], view["approvals"], engine.clock())


def _without(vm: str):
    return lambda estate: [estate.vms.pop(k) for k in list(estate.vms) if k.endswith("/" + vm)]


def test_a_succeeded_fix_resolves_the_incident_and_keeps_its_approval_outcome(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")])
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    incident = p.engine.incidents.get(run["incident_id"])
    assert incident["status"] == "resolved"
    assert incident["resolution"] == {"why": "fixed"}
    assert p.engine.incidents.open_incidents() == []
    assert p.engine.approvals.get(run["approval_id"])["state"] == "succeeded"
    found = _state(p.engine, incident["id"])
    assert (found.state, found.why, found.failing) == ("resolved", "fixed", 0)


def test_a_fix_for_a_vm_azure_does_not_have_fails_with_its_evidence(pipeline):
    p = pipeline([parse_payload(backup_alert_payload("hr-app-07"))], prepare=_without("hr-app-07"))
    (run,) = p.runs()
    assert run["state"] == "failed"
    error = run["context"]["error"]
    assert error["step"] == "confirm-vm"
    assert error["code"] == "ResourceNotFound" and error["status"] == 404
    assert error["request_id"]  # what to quote to Microsoft
    assert "Error" not in run["failure"].split()[0]  # a sentence, not an exception name
    found = _state(p.engine, run["incident_id"])
    assert (found.state, found.why) == ("failed", "fix-failed")
    assert p.engine.incidents.get(run["incident_id"])["status"] == "open"


def test_retry_runs_the_same_frozen_target_again_and_is_refused_once_it_succeeded(pipeline):
    p = pipeline([parse_payload(backup_alert_payload("hr-app-07"))], prepare=_without("hr-app-07"))
    (failed,) = p.runs()
    retried = p.engine.act("retry", {"runId": failed["id"]}, REPLAY_APPROVER)
    assert retried.outcome.accepted, retried.outcome.message
    p.engine.queue.drain(p.engine.runner.handle)
    again = next(r for r in p.runs() if r.get("retry_of") == failed["id"])
    assert again["target"] == failed["target"] and again["approval_id"] == failed["approval_id"]
    assert again["state"] == "failed"
    stale = p.engine.act("retry", {"runId": failed["id"]}, REPLAY_APPROVER)
    assert not stale.outcome.accepted and "newer fix" in stale.outcome.message
    mallory = REPLAY_APPROVER.__class__("mallory", "Mallory", REPLAY_APPROVER.tenant_id)
    refused = p.engine.act("retry", {"runId": again["id"]}, mallory)
    assert not refused.outcome.accepted
    assert len(p.runs()) == 2
    assert p.sim.requests.writes == 0


def test_the_other_fix_opens_the_incident_of_the_error_the_retry_revealed(pipeline):
    p = pipeline([_backup_error("erp-app-05", INTERNAL)], policy=Policy(**APPROVERS))
    (run,) = p.runs()
    assert run["context"]["revealed_entry"] == "rp-collection-limit-reached"
    before = len(p.engine.notifier.posts)
    acted = p.engine.act("other-fix", {"runId": run["id"]}, REPLAY_APPROVER)
    assert acted.outcome.accepted, acted.outcome.message
    [link] = p.engine.incidents.get(run["incident_id"])["related"]
    other = p.engine.incidents.get(link["incident_id"])
    assert other["entry_id"] == "rp-collection-limit-reached"
    assert other["vms"] == ["erp-app-05"]
    assert len(p.engine.notifier.posts) == before + 1  # its own card, with its own approval
    assert p.engine.approvals.get(other["approval_id"])["state"] == "pending"
    again = p.engine.act("other-fix", {"runId": run["id"]}, REPLAY_APPROVER)
    assert again.outcome.accepted
    assert p.engine.incidents.get(run["incident_id"])["related"] == [link]  # linked, not twice


def test_a_signal_azure_does_not_confirm_withdraws_the_incident(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], prepare=few_points)
    (run,) = p.runs()
    assert run["state"] == "not-confirmed"
    found = _state(p.engine, run["incident_id"])
    assert (found.state, found.why) == ("resolved", "not-confirmed")


def test_a_dry_run_needs_a_person(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], policy=Policy(**APPROVERS, dry_run=True))
    (run,) = p.runs()
    assert run["state"] == "dry-run"
    found = _state(p.engine, run["incident_id"])
    assert (found.state, found.why) == ("needs-attention", "dry-run")


def test_a_vm_joining_after_a_rejection_gets_an_approval_of_its_own(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], approve=False)
    [first] = p.engine.approvals.pending()
    assert p.engine.decide(first["id"], "reject", REPLAY_APPROVER).accepted
    joined = p.engine.ingest(rp_limit_alert("erp-app-04"))
    assert joined.incident_id == first["incident_id"]
    approvals = {a["state"]: a for a in p.engine.approvals.all_for(first["incident_id"])}
    assert [t["vm"] for t in approvals["pending"]["targets"]] == ["erp-app-04"]
    found = _state(p.engine, first["incident_id"])
    assert found.of("erp-app-03").outcome == "rejected"
    assert found.of("erp-app-04").outcome == "awaiting-approval"
    assert (found.state, found.why) == ("needs-attention", "rejected")


def test_a_failure_after_the_incident_was_fixed_opens_a_new_incident(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")])
    (run,) = p.runs()
    assert p.engine.incidents.get(run["incident_id"])["status"] == "resolved"
    joined = p.engine.ingest(rp_limit_alert("erp-app-04"))
    assert joined.incident_id != run["incident_id"] and joined.created


def test_a_fix_that_wrote_before_it_failed_shows_its_writes_and_azures_answer(pipeline):
    from bot.incident_card import incident_card
    from devtools.simulator import Behaviour
    from tests.bot_app.test_incident_flow import texts

    behaviour = Behaviour(rpc_delete_fail_first=99, auto_cleanup_reads=None)
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=behaviour)
    (run,) = p.runs()
    assert run["state"] == "failed"
    view = p.engine.view(run["incident_id"])
    writes = view["writes"][run["id"]]
    actions = [w["action"].rsplit("/", 2)[-2:] for w in writes]
    assert ["locks", "delete"] in actions and ["locks", "write"] in actions  # lifted, put back
    assert all(w["request_id"] for w in writes)
    error = run["context"]["error"]
    assert error["step"] == "delete-collections" and error["request_id"]
    said = texts(incident_card(view))
    assert f"Request id: {error['request_id']}" in said
    assert "locks/delete protect-backup-rg: done" in said
    assert "restorePointCollections/delete AzureBackup_erp-app-03_" in said
    assert "times)" in said  # the retried delete, one line
