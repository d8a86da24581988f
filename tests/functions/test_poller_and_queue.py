"""The timer and Service Bus functions through real request objects, against the simulator."""

from __future__ import annotations

import asyncio
import json

from azure.functions import HttpRequest
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest

from remediation.engine import REQUEUE_GRACE
from remediation.signals import signals_from_payload
from tests.function_app_fixture import call, run_queue
from tests.localhost.process import demo_rp_limit_alert


def test_timer_polls_the_vaults_and_opens_incidents_from_health_errors(simulated):
    functions, services, sim = simulated
    functions["poller"].get_user_function()(timer=TimerRequest(past_due=False))
    incidents = services.engine.incidents.open_incidents()
    assert sorted((i["entry_id"], i["vms"]) for i in incidents) == [
        ("cbt-fetch-changed-blocks", ["erp-app-01"]),  # the demo's broken migration item
        ("guest-agent-status-unavailable", ["file-02"]),  # and its two failed backup jobs
        ("rp-collection-limit-reached", ["erp-app-03"]),
    ]
    assert sim.requests.count("asr.items.list") >= 1
    marks = services.engine.store.query("watermarks")
    assert len(marks) == len(sim.estate.vaults)


def test_queue_trigger_runs_one_playbook_step_per_message(simulated):
    functions, services, _ = simulated
    functions["poller"].get_user_function()(timer=TimerRequest(past_due=False))
    (run,) = services.engine.runs.all(playbook="repair-replication")
    queue = services.engine.queue
    delivered = []
    queue.drain(delivered.append)  # take the messages the engine sent, as Service Bus would
    step = next(m for m in delivered if getattr(m, "run_id", None) == run["id"])
    message = ServiceBusMessage(
        body=step.to_json().encode(), message_id=step.message_id, session_id=step.session_id,
        application_properties={}, user_properties={},
    )  # fmt: skip
    functions["remediation_step"].get_user_function()(msg=message)
    after = services.engine.runs.get(run["id"])
    assert run["playbook"] == "repair-replication"
    assert [(j["step"], j["phase"]) for j in after["journal"]] == [
        ("confirm-failure", "start"),
        ("confirm-failure", "next"),
    ]
    assert after["step"] == 1 and after["state"] == "queued"
    functions["remediation_step"].get_user_function()(msg=message)  # redelivered: no effect
    assert services.engine.runs.get(run["id"])["journal"] == after["journal"]


def test_timer_sends_again_a_recorded_signal_that_was_never_queued(simulated, monkeypatch):
    functions, services, _ = simulated
    engine = services.engine
    [signal] = signals_from_payload(demo_rp_limit_alert("erp-app-02"))

    async def lost(message) -> None:  # the process died before the send
        return None

    with monkeypatch.context() as patch:
        patch.setattr(engine.queue, "asend", lost)
        asyncio.run(engine.accept(signal))
    timer = functions["poller"].get_user_function()

    def vms_after_a_timer_cycle() -> list[str]:
        timer(timer=TimerRequest(past_due=False))
        run_queue(functions, services)
        return [vm for incident in engine.incidents.open_incidents() for vm in incident["vms"]]

    assert "erp-app-02" not in vms_after_a_timer_cycle(), "too early: the send may just be late"
    later = engine.clock() + REQUEUE_GRACE
    monkeypatch.setattr(engine, "clock", lambda: later)
    assert "erp-app-02" in vms_after_a_timer_cycle()


def test_a_job_running_at_one_poll_and_failing_after_it_is_reported_once(simulated):
    """The Backup jobs API filters by start time; failures are found by when they ended."""
    from datetime import UTC, datetime, timedelta

    from devtools.simulator.estate import BACKUP_ERROR_NUMBERS, RP_LIMIT_CODE, RP_LIMIT_MESSAGE
    from devtools.simulator.resources import BackupJob

    functions, services, sim = simulated
    poll = functions["poller"].get_user_function()
    item = next(i for i in sim.estate.protected_items.values() if i.vm.name == "erp-app-02")
    started = datetime.now(UTC) - timedelta(minutes=30)
    job = sim.estate.add_backup_job(BackupJob(item.vault, "job-long-running", item, started, 10**6))
    poll(timer=TimerRequest(past_due=False))
    assert not services.engine.incidents.for_vm("erp-app-02"), "still running: nothing to say"

    job.status, job.ended = "Failed", datetime.now(UTC)
    code = BACKUP_ERROR_NUMBERS[RP_LIMIT_CODE]
    job.error_details = [
        {"errorCode": code, "errorTitle": RP_LIMIT_CODE, "errorString": RP_LIMIT_MESSAGE}
    ]
    poll(timer=TimerRequest(past_due=False))
    (incident,) = services.engine.incidents.for_vm("erp-app-02")
    assert incident["entry_id"] == "rp-collection-limit-reached"
    poll(timer=TimerRequest(past_due=False))  # the same failure, seen again by the overlap
    (again,) = services.engine.incidents.for_vm("erp-app-02")
    assert again["signal_count"] == incident["signal_count"], "counted once"
    assert [e["job_id"] for e in again["evidence"]].count("job-long-running") == 1


def test_the_backup_a_cleanup_expected_to_fail_is_no_failure_once_a_later_one_completed(
    simulated,
):
    """Microsoft's cleanup lifts the lock and backs up once, expecting that backup to fail
    (Azure then cleans up), then backs up again. The next poll finds the first, failed, job;
    the VM's later backup completed, so Azure no longer shows the failure: no card may say
    the VM is failing again, nor ask to clean it up a second time."""
    from datetime import UTC, datetime, timedelta

    from devtools.localhost.serve import DEV_USER
    from devtools.simulator.identity import TEST_TENANT
    from remediation.approvals import Approver

    functions, services, sim = simulated
    engine = services.engine
    poll = functions["poller"].get_user_function()
    # Azure's clock a little behind ours: the poll, a second later, lists the fix's backups
    # (the jobs filter reads whole seconds).
    sim.estate.clock = lambda: datetime.now(UTC) - timedelta(seconds=2)
    alert = json.dumps(demo_rp_limit_alert("erp-app-03")).encode()
    request = HttpRequest("POST", "http://localhost/api/alerts", body=alert,
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert call(functions["alerts"], req=request).status_code == 202
    run_queue(functions, services)
    (incident,) = [i for i in engine.incidents.open_incidents() if "erp-app-03" in i["vms"]]
    (approval,) = [a for a in engine.approvals.pending() if a["incident_id"] == incident["id"]]
    who = Approver(DEV_USER["object_id"], DEV_USER["name"], TEST_TENANT)
    assert engine.decide(approval["id"], "approve", who).accepted
    run_queue(functions, services)
    (run,) = engine.runs.for_incident(incident["id"])
    assert run["state"] == "succeeded", run.get("failure")
    assert run["context"]["backup_job_status"] == "Failed"  # the first backup, as expected

    poll(timer=TimerRequest(past_due=False))
    failing = [i for i in engine.incidents.open_incidents() if "erp-app-03" in i["active_vms"]]
    assert failing == [], "a poll reopened a VM whose fix Azure proved"
    assert engine.incidents.get(incident["id"])["status"] == "resolved"
