"""Chat over real Bot Framework HTTP: why did VM X fail, explain, status, help, switches."""

from __future__ import annotations

import pytest

from remediation.signals import parse_payload
from tests.bot_app.harness import APPROVER, STRANGER, bot_app
from tests.bot_app.test_incident_flow import texts
from tests.botkit.servers import run_async
from tests.engine.signals import rp_limit_alert
from tests.engine.test_scope import corpus as corpus_payload
from tests.reliability.summary import record


@pytest.mark.timeout(60)
@run_async
async def test_why_did_a_vm_fail_tells_cause_what_was_done_and_what_next(tmp_path, arm_sim, sdk):
    async with bot_app(tmp_path, arm_sim, sdk=sdk) as app:
        await app.install()
        ingested = await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        approval_id = app.engine.incidents.get(ingested.incident_id)["approval_id"]

        before = texts(await app.say("why did VM erp-app-03 fail?"))
        assert "Why erp-app-03 failed" in before
        assert "Cause" in before and "restore point" in before.lower()
        assert "Approval: Waiting for an approver" in before
        assert "An approver can approve the proposed fix (cleanup-restore-points)" in before
        assert "Live from Azure" in before
        assert "Replication erp-app-03" in before  # read live from the migrate vault
        assert "Health error 1004: Failed to fetch the changed blocks." in before
        assert "→ Resynchronize the virtual machine." in before

        await app.click(approval_id, "approve")
        await app.drain()
        after = texts(await app.say("What happened to erp-app-03"))
        assert "Approval: Approved by Alex Operator" in after
        assert "1 succeeded" in after
        assert "The fix succeeded" in after
        assert "live data unavailable" not in after

        french = texts(await app.say("pourquoi la VM erp-app-03 a échoué ?"))
        assert "Pourquoi erp-app-03 a échoué" in french
        assert "Ce qui a été fait" in french and "Que faire ensuite" in french


@run_async
async def test_why_with_an_invalid_vm_name_looks_nothing_up(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        record("injection", into_chat=1)
        answer = texts(await app.say('why did VM x" | union * fail'))
        assert "is not a valid Azure VM name" in answer
        assert arm_sim.requests.entries() == []
        record("injection", blocked=1)


@run_async
async def test_live_sources_that_fail_are_named_not_fatal(tmp_path):
    async with bot_app(tmp_path) as app:  # no ARM simulator: vault reads fail
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        answer = texts(await app.say("why is erp-app-03 failing"))
        assert "Restore point collection limit reached" in answer
        assert "live data unavailable: vault rsv-prod-weu" in answer


@run_async
async def test_why_for_a_vm_without_incidents(tmp_path):
    async with bot_app(tmp_path) as app:
        answer = texts(await app.say("why did vm web-09 fail", personal=True))
        assert "No incident recorded for web-09" in answer


@run_async
async def test_explain_status_and_help(tmp_path):
    async with bot_app(tmp_path) as app:
        explained = texts(await app.say("explain UserErrorRpCollectionLimitReached"))
        assert "Restore point collection limit reached" in explained
        assert "cleanup-restore-points" in explained
        french = texts(await app.say("explique La limite maximale de la collection de points "
                                     "de restauration a été atteinte."))  # fmt: skip
        assert "Causes" in french or "Cause" in french
        unknown = texts(await app.say("explain nothing like this ever happened"))
        assert "No catalogue entry matches" in unknown

        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        budget = parse_payload(corpus_payload("monitor-budget-alert.test-action"))
        await app.sync(app.engine.ingest, budget)
        status = texts(await app.say("status"))
        assert "Open incidents: 1" in status and "Pending approvals: 1" in status
        assert "erp-app-03" in status
        assert "Recorded without an incident: 1 out of scope" in status
        assert "1 hors périmètre" in texts(await app.say("état"))
        assert "What I can do" in texts(await app.say("help"))
        assert "Ce que je sais faire" in texts(await app.say("aide"))
        assert "I did not understand" in texts(await app.say("make me a sandwich"))


@run_async
async def test_switches_are_for_approvers_only_and_audited(tmp_path):
    async with bot_app(tmp_path) as app:
        engine = app.engine
        refused = texts(await app.say("pause", user=STRANGER))
        assert "Only remediation approvers" in refused
        assert engine.policy().paused is False

        assert "automation is now paused" in texts(await app.say("pause"))
        assert engine.policy().paused is True
        await app.say("resume")
        assert engine.policy().paused is False
        assert "dry run is now on" in texts(await app.say("dry-run on"))
        assert engine.policy().dry_run is True
        assert "Only remediation approvers" in texts(await app.say("dry-run off", user=STRANGER))
        assert engine.policy().dry_run is True
        await app.say("dry run off")
        assert engine.policy().dry_run is False
        audit = [r.data for r in engine.store.query("audit")]
        actions = [a for a in audit if a.get("action", "").startswith("set ")]
        assert len(actions) == 4
        assert all(a["actor"] == f"user:{APPROVER}" for a in actions)
