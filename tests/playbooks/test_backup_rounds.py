"""A backup round (trigger, find the job, follow it) each way Azure Backup can answer: another
backup in the way, an operation that fails or never names its job, a worker that dies around
the trigger. What must hold: one backup per round, the job followed is the one the round's own
trigger created, and a round that cannot go on fails with a sentence naming what Azure said.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from devtools.replay import REPLAY_APPROVER, estate_for, simulated_engine
from devtools.simulator import Behaviour
from remediation.clock import utcnow
from tests.engine.signals import rp_limit_alert
from tests.playbooks.conftest import MAX_MESSAGES
from tests.playbooks.test_playbooks import INTERNAL, _backup_error
from tests.playbooks.test_timelines import CLEANUP_START, RETRY_START, timeline

ROOMY = Behaviour(max_restore_points=99)
LOOKING = "looking for a backup an earlier attempt may have started"
RETRY_TRIGGERED = RETRY_START[:6]  # up to "on-demand backup requested"
RETRY_FOLLOWED = [*RETRY_START[6:], ("follow-backup", "next", "backup job <job> Completed")]


def _retry(pipeline, **options):
    p = pipeline([_backup_error("erp-app-05", INTERNAL)], **{"behaviour": ROOMY, **options})
    (run,) = p.runs()
    return p, run


def _requests(p, vm="erp-app-05"):
    return [r for r in p.sim.estate.to_state()["backup_requests"] if r["vm"] == vm]


# -- another backup in the way ---------------------------------------------------------------


def _someone_elses_backup(polls_left: int):
    """prepare(): a backup of erp-app-05 that someone started just before the fix."""

    def prepare(estate):
        item = next(i for i in estate.protected_items.values() if i.vm.name == "erp-app-05")
        operation = estate.trigger_backup(item)
        estate.poll_backup_operation(operation)
        estate.poll_backup_operation(operation)
        operation.job.polls_left = polls_left

    return prepare


def test_a_backup_that_runs_for_hours_fails_the_fix_before_it_triggers_another(pipeline):
    p, run = _retry(pipeline, prepare=_someone_elses_backup(polls_left=10**6))
    (theirs,) = _requests(p)
    failure = f"backup job {theirs['job_id']} is in progress and has been for over 2 h"
    assert (run["state"], run["failure"]) == ("failed", failure)
    waits = [t for t in timeline(run) if t[:2] == ("no-backup-running", "wait")]
    assert waits == [
        ("no-backup-running", "wait",
         f"backup job {theirs['job_id']} is in progress: waiting for it to end"),
    ] * 12  # every 10 min for 2 h  # fmt: skip
    assert p.sim.requests.writes == 0


def test_a_backup_that_ends_while_waited_for_is_followed_by_the_fixs_own(pipeline):
    p, run = _retry(pipeline, prepare=_someone_elses_backup(polls_left=3))
    assert run["state"] == "succeeded", run["failure"]
    theirs, ours = _requests(p)
    assert run["context"]["backup_job"] == ours["job_id"] != theirs["job_id"]
    assert 0 < run["context"]["busy_waits"] < 12


def test_a_backup_started_between_the_check_and_the_trigger_is_waited_out(pipeline):
    in_progress = "UserErrorBackupOperationInProgress"
    p, run = _retry(pipeline, faults=lambda f: f.error("backup.trigger", 409, code=in_progress,
                                                       times=1))  # fmt: skip
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run) == [
        *RETRY_TRIGGERED[:5],
        ("trigger-backup", "wait",
         "another backup of the VM is running (job starting): waiting for it to end"),
        *RETRY_TRIGGERED[5:], *RETRY_FOLLOWED,
    ]  # fmt: skip
    assert len(_requests(p)) == 1


def test_a_running_backup_named_by_azure_when_the_trigger_is_refused(pipeline):
    def started_at_trigger(estate):
        trigger, calls = estate.trigger_backup, []

        def someone_first(item):
            calls.append(item)
            if len(calls) == 1:  # another backup of the VM starts just before ours
                estate.poll_backup_operation(trigger(item))
            return trigger(item)

        estate.trigger_backup = someone_first

    p, run = _retry(pipeline, prepare=started_at_trigger)
    assert run["state"] == "succeeded", run["failure"]
    theirs, ours = _requests(p)
    waited = next(t for t in timeline(run) if t[:2] == ("trigger-backup", "wait"))
    assert waited[2] == (
        f"another backup of the VM is running (job {theirs['job_id']}): waiting for it to end"
    )
    assert run["context"]["backup_job"] == ours["job_id"]


def test_a_trigger_whose_answer_was_lost_follows_that_backup_not_a_second(pipeline):
    """Azure Backup took the trigger, but the connection closed before its 202 came back: the
    step's next attempt finds the backup that trigger started instead of triggering another."""
    p, run = _retry(pipeline, faults=lambda f: f.lose_answer("backup.trigger"))
    assert run["state"] == "succeeded", run["failure"]
    (request,) = _requests(p)
    assert run["context"]["backup_job"] == request["job_id"]
    assert [t[:2] for t in timeline(run)].count(("trigger-backup", "next")) == 1
    assert timeline(run)[-3:] == [
        ("trigger-backup", "next", "resumed following backup job <job>"),
        ("find-backup-job", "next", ""),
        RETRY_FOLLOWED[-1],
    ]


def test_a_trigger_refused_for_another_reason_fails_the_fix(pipeline):
    _, run = _retry(pipeline, faults=lambda f: f.error(
        "backup.trigger", 400, code="UserErrorBackupNotAllowed", message="Not now.",
        times=99))  # fmt: skip
    assert run["state"] == "failed"
    assert "UserErrorBackupNotAllowed" in run["context"]["error"]["code"]
    assert [t[:2] for t in timeline(run)][-1] == ("trigger-backup", "failed")


# -- the trigger's operation ---------------------------------------------------------------


def test_a_trigger_that_names_no_operation_fails_with_a_reason(pipeline):
    _, run = _retry(pipeline, faults=lambda f: f.error("backup.trigger", 202, times=1))
    assert (run["state"], run["failure"]) == (
        "failed", "Azure Backup accepted the backup but named no operation to follow",
    )  # fmt: skip


@pytest.mark.parametrize("status", ["Failed", "Canceled", "Invalid"])
def test_an_operation_that_ends_without_a_job_fails_with_azures_words(pipeline, status):
    def operation_ends(estate):
        trigger = estate.trigger_backup

        def and_end(item):
            operation = trigger(item)
            operation.status = status
            if status == "Failed":
                operation.error = {"code": "BMSUserErrorNotAllowed", "message": "Quota exceeded."}
            return operation

        estate.trigger_backup = and_end

    _, run = _retry(pipeline, prepare=operation_ends)
    said = "Quota exceeded." if status == "Failed" else ""
    assert (run["state"], run["failure"]) == ("failed", f"the backup request {status}: {said}")
    assert timeline(run)[-1][:2] == ("find-backup-job", "failed")


def test_an_operation_that_never_names_its_job_fails_after_30_looks(pipeline):
    _, run = _retry(pipeline, behaviour=Behaviour(max_restore_points=99,
                                                  backup_operation_polls=10**6))  # fmt: skip
    operation = run["context"]["backup_operation"]
    assert (run["state"], run["failure"]) == (
        "failed", f"the backup operation {operation} never named its job",
    )  # fmt: skip
    looks = [t for t in timeline(run) if t[0] == "find-backup-job"]
    assert looks == [
        ("find-backup-job", "wait", "waiting for Azure Backup to create the job")] * 30 + [
        ("find-backup-job", "failed", run["failure"].replace(operation, "<operation>")),
    ]  # fmt: skip


def test_an_operation_that_vanishes_fails_with_a_reason(pipeline):
    _, run = _retry(pipeline, faults=lambda f: f.error("backup.operation_status", 404, times=99))
    operation = run["context"]["backup_operation"]
    assert (run["state"], run["failure"]) == (
        "failed", f"the backup operation {operation} vanished from Azure Backup",
    )  # fmt: skip


def test_a_job_that_vanishes_is_named_in_the_failure(pipeline):
    _, run = _retry(
        pipeline,
        behaviour=Behaviour(max_restore_points=99, backup_job_polls=5),
        faults=lambda faults: faults.error("backup.jobs.get", 404, times=99),
    )
    job = run["context"]["backup_job"]
    assert (run["state"], run["failure"]) == (
        "failed", f"backup job {job} vanished from Azure Backup",
    )  # fmt: skip


# -- a worker that dies around the trigger ----------------------------------------------------


class Crash(BaseException):
    """The worker dies: nothing after this point of the step is journaled or saved."""


def _crash_once(signals, step: str, *, before: bool, behaviour=ROOMY, prepare=None):
    """Run the fix; its worker dies the first time `step` runs (before it calls Azure or
    after), then a new worker resumes the run. Returns (run, simulator state)."""
    estate = estate_for(signals)
    estate.behaviour = behaviour
    if prepare:
        prepare(estate)
    with simulated_engine(estate) as (engine, sim):
        execute, died = engine.runner._execute, []

        def execute_then_die(playbook, run, current, interrupted):
            if current.name == step and not died:
                died.append(current.name)
                if not before:
                    execute(playbook, run, current, interrupted)
                raise Crash
            return execute(playbook, run, current, interrupted)

        engine.runner._execute = execute_then_die
        for signal in signals:
            engine.ingest(signal)
        for approval in engine.approvals.pending():
            assert engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
        with pytest.raises(Crash):
            engine.queue.drain(engine.runner.handle, max_messages=MAX_MESSAGES)
        assert len(engine.runner.resume_stale(sole_worker=True)) == 1
        engine.queue.drain(engine.runner.handle, max_messages=MAX_MESSAGES)
        assert len(engine.queue) == 0
        (run,) = engine.runs.all()
        return run, sim.estate.to_state()


def _resumed(run) -> list[tuple[str, str, str]]:
    """The timeline of the run after its first worker died."""
    journal = run["journal"]
    died = next(i for i, j in enumerate(journal[:-1])
                if j["phase"] == "start" and journal[i + 1]["phase"] == "start")  # fmt: skip
    return timeline({**run, "journal": journal[died + 1 :]})


def test_a_worker_that_dies_after_triggering_follows_that_backup_not_a_second():
    run, state = _crash_once([_backup_error("erp-app-05", INTERNAL)], "trigger-backup",
                             before=False)  # fmt: skip
    assert run["state"] == "succeeded", run["failure"]
    (request,) = [r for r in state["backup_requests"] if r["vm"] == "erp-app-05"]
    assert run["context"]["backup_job"] == request["job_id"]
    assert run["context"]["jobs_followed"] == [request["job_id"]]
    assert _resumed(run) == [  # Azure Backup creates the job a moment after the trigger
        ("trigger-backup", "wait", LOOKING),
        ("trigger-backup", "next", "resumed following backup job <job>"),
        ("find-backup-job", "next", ""),
        ("follow-backup", "next", "backup job <job> Completed"),
    ]


def test_a_worker_that_dies_before_triggering_looks_once_then_triggers():
    run, state = _crash_once([_backup_error("erp-app-05", INTERNAL)], "trigger-backup",
                             before=True)  # fmt: skip
    assert run["state"] == "succeeded", run["failure"]
    (request,) = [r for r in state["backup_requests"] if r["vm"] == "erp-app-05"]
    assert run["context"]["backup_job"] == request["job_id"]
    assert _resumed(run) == [
        ("trigger-backup", "wait", LOOKING),
        RETRY_TRIGGERED[-1], *RETRY_FOLLOWED,
    ]  # fmt: skip


def _clock_ahead(estate):
    """Azure Backup's clock runs an hour ahead of the worker's: every job it stamps looks
    started after any moment the worker notes."""
    estate.clock = lambda: utcnow() + timedelta(hours=1)


def test_a_second_round_resumed_after_a_crash_never_adopts_the_first_rounds_job():
    run, state = _crash_once([rp_limit_alert("erp-app-03")], "trigger-backup-again",
                             before=False, behaviour=Behaviour(), prepare=_clock_ahead)  # fmt: skip
    assert run["state"] == "succeeded", run["failure"]
    first, second = [r["job_id"] for r in state["backup_requests"]]
    assert (run["context"]["backup_job"], run["context"]["backup_job-again"]) == (first, second)
    assert run["context"]["jobs_followed"] == [first, second]
    assert _resumed(run)[:2] == [
        ("trigger-backup-again", "wait", LOOKING),
        ("trigger-backup-again", "next", "resumed following backup job <job 2>"),
    ]
    assert state["locks"] and run["context"]["locks_restored"] == 1


def test_the_first_round_resumed_after_a_crash_is_the_cleanups_own():
    run, state = _crash_once([rp_limit_alert("erp-app-03")], "trigger-backup", before=False,
                             behaviour=Behaviour())  # fmt: skip
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[: len(CLEANUP_START) - 6] == CLEANUP_START[:-6]
    first, _ = [r["job_id"] for r in state["backup_requests"]]
    assert run["context"]["backup_job"] == first


def test_a_job_read_before_azure_gives_it_a_status_is_waited_for(pipeline):
    def no_status_at_first(estate):
        poll, held = estate.poll_backup_job, {}

        def first_read_without_status(job):
            if job.status == "InProgress" and job.name not in held:
                held[job.name], job.status = job.status, None
                return job
            if job.status is None:
                job.status = held[job.name]
            return poll(job)

        estate.poll_backup_job = first_read_without_status

    _, run = _retry(pipeline, prepare=no_status_at_first)
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[-4:] == [
        ("find-backup-job", "next", "backup job <job> started"),
        ("follow-backup", "wait", "backup job <job> is starting"),
        ("follow-backup", "wait", "backup job <job> is InProgress"),
        ("follow-backup", "next", "backup job <job> Completed"),
    ]
