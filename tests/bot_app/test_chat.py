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
        _, approval_id = await app.proposed_cleanup()

        before = texts(await app.say("why did VM erp-app-03 fail?"))
        assert "Why erp-app-03 failed" in before
        assert "Cause" in before and "restore point" in before.lower()
        assert "Approval: Waiting for a decision (Clean up restore points), expires in " in before
        assert "An approver can approve the proposed fix (Clean up restore points)" in before
        assert "Live from Azure" in before
        assert "VM erp-app-03: running, agent Ready" in before  # its instance view, read live
        assert "Replication of erp-app-03" in before  # read live from the migrate vault
        assert "Health error 1004: Failed to fetch the changed blocks." in before
        assert "→ Resynchronize the virtual machine." in before

        await app.approve_and_run(approval_id)
        after = texts(await app.say("What happened to erp-app-03"))
        assert "Approval: Approved by Alex Operator just now (Clean up restore points)" in after
        assert "Fixes: 1 fixed" in after
        assert "Fixed: Azure shows the fix worked for erp-app-03." in after
        assert "Resolved: nothing to do unless it fails again." in after
        for step in ("Lift the locks", "Put the locks back"):  # the timeline, in words
            assert step in after
        assert "live data unavailable" not in after
        # the backups the fix ran, read live from the vault (a cleanup's first backup fails
        # when it makes Azure clean up, its second one completes)
        assert "Backup job Completed, started " in after
        assert "Backup job Failed, started " in after

        french = texts(await app.say("pourquoi la VM erp-app-03 a échoué ?"))
        assert "Pourquoi erp-app-03 a échoué" in french
        assert "Ce qui a été fait" in french and "Que faire ensuite" in french
        assert "Remettre les verrous" in french and "RÉSOLU" in french


@run_async
async def test_typos_get_understood_or_a_did_you_mean(tmp_path):
    async with bot_app(tmp_path) as app:
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        typo = texts(await app.say("whyy did vm erp-ap-03 fail"))
        assert "No incident recorded for erp-ap-03." in typo
        assert "Did you mean erp-app-03?" in typo
        assert "Restore point collection limit reached" in texts(
            await app.say("what is wrong with erp-app-03")
        )
        assert "Open incidents: 1" in texts(await app.say("statsu"))
        french = texts(await app.say("pourquoi la VM erp-ap-03 a échoué"))
        assert "Vouliez-vous dire erp-app-03 ?" in french


@run_async
async def test_several_incidents_of_one_vm_are_summarised_not_repeated(tmp_path):
    from tests.engine.signals import backup_error_alert

    async with bot_app(tmp_path) as app:
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        agent = backup_error_alert("erp-app-03", "UserErrorGuestAgentStatusUnavailable",
                                   "VM agent is unable to communicate with the Azure Backup "
                                   "Service.")  # fmt: skip
        await app.sync(app.engine.ingest, agent)
        said = texts(await app.say("why did vm erp-app-03 fail"))
        assert "2 incidents for erp-app-03, most relevant first:" in said
        assert said.count("What was done") == 1  # one story told in full, the other summarised


@run_async
async def test_failed_fixes_and_who_approved(tmp_path, arm_sim):
    from remediation.signals import parse_payload
    from tests.engine.signals import backup_alert_payload

    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        assert "No fix has failed." in texts(await app.say("show failed fixes"))
        ghost = await app.sync(app.engine.ingest, parse_payload(backup_alert_payload("hr-app-07")))
        approval_id = app.engine.incidents.get(ghost.incident_id)["approval_id"]
        await app.click(approval_id, "approve")
        await app.drain()
        failed = texts(await app.say("show failed fixes"))
        assert "hr-app-07 · Clean up restore points · just now" in failed
        assert "VM hr-app-07 was not found in subscription" in failed
        who = texts(await app.say("who approved hr-app-07"))
        assert "Approved by Alex Operator just now (Clean up restore points)" in who
        assert "Nobody has decided on a fix for web-09." in texts(
            await app.say("who approved web-09")
        )


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
        assert "Error:" not in answer  # no exception names, only what happened


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
        assert "Clean up restore points (cleanup-restore-points, needs approval)" in explained
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


def _namesake_with_a_failed_backup(sim, name: str, group: str, message: str):
    """Another VM of the same name, in another resource group, backed up to the same vault,
    whose last backup failed with `message`."""
    from datetime import timedelta

    from devtools.simulator.resources import BackupJob, VirtualMachine
    from tests.bot_app.conftest import SUBSCRIPTION, VAULT_ID

    estate = sim.estate
    vault = next(v for v in estate.vaults.values() if v.id.lower() == VAULT_ID.lower())
    namesake = VirtualMachine(SUBSCRIPTION, group, name, vault.location)
    item = estate.protect_vm(namesake, vault)
    failed = {"errorCode": 400001, "errorTitle": "Namesake", "errorString": message}
    started = estate.clock() - timedelta(minutes=10)
    return estate.add_backup_job(BackupJob(item.vault, f"job-{group}", item, started, 0,
                                           status="Failed", ended=started,
                                           error_details=[failed]))  # fmt: skip


@run_async
async def test_why_tells_backup_jobs_of_the_vm_asked_about_not_of_its_namesakes(tmp_path, arm_sim):
    """A vault protects VMs of the same name in two resource groups: the answer about the one
    the incident names shows its own jobs only."""
    _namesake_with_a_failed_backup(arm_sim, "erp-app-03", "rg-erp-test", "The namesake failed.")
    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))  # in rg-erp-prod
        answer = texts(await app.say("why did VM erp-app-03 fail?"))
        assert "VM erp-app-03: running, agent Ready" in answer  # the live part was read
        assert "The namesake failed." not in answer


@run_async
async def test_why_names_the_resource_group_of_each_job_when_namesakes_cannot_be_told_apart(
    tmp_path, arm_sim
):
    """An incident from a Backup job that names no container (as Microsoft's own job example)
    has no VM id: jobs of same-named VMs are all shown, each with its VM's resource group,
    rather than read as one VM's history."""
    job = _namesake_with_a_failed_backup(arm_sim, "web-77", "rg-web-test", "Test copy failed.")
    _namesake_with_a_failed_backup(arm_sim, "web-77", "rg-web-prod", "Production failed.")
    payload = job.to_arm()
    del payload["properties"]["containerName"]
    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        await app.sync(app.engine.ingest, parse_payload(payload))
        answer = texts(await app.say("why did VM web-77 fail?"))
        assert "Test copy failed." in answer and "Production failed." in answer
        assert "(resource group rg-web-test)" in answer
        assert "(resource group rg-web-prod)" in answer
        french = texts(await app.say("pourquoi la VM web-77 a échoué ?"))
        assert "(groupe de ressources rg-web-prod)" in french


@run_async
async def test_why_tells_the_jobs_of_the_vm_a_backup_job_names_by_its_container(tmp_path, arm_sim):
    """A Backup job's container names its VM's resource group: the answer shows that VM's
    jobs, not its namesake's."""
    job = _namesake_with_a_failed_backup(arm_sim, "web-77", "rg-web-test", "Test copy failed.")
    _namesake_with_a_failed_backup(arm_sim, "web-77", "rg-web-prod", "Production failed.")
    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        await app.sync(app.engine.ingest, parse_payload(job.to_arm()))
        answer = texts(await app.say("why did VM web-77 fail?"))
        assert "Test copy failed." in answer and "Production failed." not in answer
