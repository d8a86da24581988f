"""Azure Backup alerts once per failed job, the jobs a fix ran itself included: the cleanup's
first backup fails on purpose (Azure cleans up the collection on that failure). Its alert
arrives after the fix has ended; it is the fix's story, told on the fix's card, never a new
incident saying the VM is failing again."""

from __future__ import annotations

from remediation.signals import parse_payload
from tests.bot_app.harness import bot_app
from tests.botkit.servers import run_async
from tests.engine.signals import backup_alert_payload


def _alert_for_job(vm: str, job: str) -> dict:
    payload = backup_alert_payload(vm, alert_no=2)
    payload["data"]["alertContext"]["extendedInfo"]["jobId"] = job
    return payload


@run_async
async def test_the_alert_of_a_backup_the_cleanup_ran_opens_no_incident(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        incident_id, approval_id = await app.proposed_cleanup("erp-app-03")
        await app.approve_and_run(approval_id)
        (run,) = app.engine.runs.for_incident(incident_id)
        assert run["state"] == "succeeded"
        first_job = run["context"]["jobs_followed"][0]  # failed on purpose: Azure cleaned up
        posts = len(app.calls("create"))

        late = parse_payload(_alert_for_job("erp-app-03", first_job))
        again = await app.sync(app.engine.ingest, late)
        assert again.incident_id is None
        open_incidents = [i for i in app.engine.incidents.for_vm("erp-app-03")
                          if i["status"] == "open"]  # fmt: skip
        assert open_incidents == []
        assert len(app.calls("create")) == posts  # no new card
        assert app.engine.counters.extra.get("fix-job") == 1

        # A failure of a job no fix ran is news.
        other = await app.sync(
            app.engine.ingest, parse_payload(backup_alert_payload("erp-app-03", 3))
        )
        assert other.incident_id is not None
