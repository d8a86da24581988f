"""repair-replication as its card and its audit read it when something goes other than planned:
a signal naming no item, an item gone, an item naming no machine, a resync Azure accepts
without naming its job, a job that vanishes or ends Failed or Cancelled with or without
Azure's words, health that never comes back, and a worker that dies around the resync POST
(the next one adopts the job its predecessor started, and only that job)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from devtools.replay import estate_for, simulated_engine
from devtools.simulator import Behaviour
from remediation.azure.operations import Arm
from remediation.signals import parse_payload
from tests.engine.signals import changed_blocks_error
from tests.playbooks.conftest import MAX_MESSAGES
from tests.playbooks.test_timelines import timeline

SIGNAL = changed_blocks_error("erp-db-01")
START = [
    ("confirm-failure", "next", "Azure confirms: replication of erp-db-01 is Critical."),
    ("check-resync-allowed", "next", "Azure allows a resync now"),
]
FOLLOWED = [
    ("follow-job", "wait", "resync job <resync> is InProgress"),
    ("follow-job", "wait", "resync job <resync> is InProgress"),
    ("follow-job", "next", "resync job <resync> succeeded"),
    ("confirm-healthy", "next", "replication of erp-db-01 is healthy again"),
]


def _item(estate):
    (item,) = estate.migration_items.values()
    return item


def _repair(pipeline, prepare=None, behaviour=None, signal=SIGNAL, faults=None):
    p = pipeline([signal], approve=False, prepare=prepare, behaviour=behaviour, faults=faults)
    (run,) = p.runs()
    return p, run


def _resyncs(p) -> list[dict]:
    """The audit entries of resync POSTs: what an auditor reads of the writes."""
    return [e for e in p.engine.audit.entries() if e["action"].endswith("/resync/action")]


# -- what the run reads before it writes ----------------------------------------------------


def test_a_signal_naming_no_migration_item_fails_at_once_and_writes_nothing(pipeline):
    raw = parse_payload("VM: erp-db-01. Encountered an error while trying to fetch changed blocks")
    p, run = _repair(pipeline, signal=raw)
    assert (run["playbook"], run["state"]) == ("repair-replication", "failed")
    assert timeline(run) == [
        ("confirm-failure", "failed", "The signal for erp-db-01 named no migration item."),
    ]  # fmt: skip
    assert p.sim.requests.writes == 0


def test_an_item_gone_from_its_vault_is_named_with_its_vault_and_group(pipeline):
    p, run = _repair(pipeline, prepare=lambda estate: estate.migration_items.clear())
    assert (run["state"], run["failure"]) == (
        "failed",
        "Migration item of erp-db-01 was not found in vault migrate-prod-weu-MigrateVault-1234 "
        "(subscription 00000000-0000-0000-0000-000000000001, resource group rg-migrate-prod): "
        "nothing was changed.",
    )
    assert p.sim.requests.writes == 0


def test_an_item_naming_no_machine_is_not_taken_for_the_cards_vm(pipeline):
    p, run = _repair(pipeline, prepare=lambda estate: setattr(_item(estate), "machine_name", ""))
    assert (run["state"], run["failure"]) == (
        "failed",
        "The signal names erp-db-01, but its migration item replicates no named machine: "
        "nothing was changed.",
    )
    assert p.sim.requests.writes == 0


# -- the resync and its job -----------------------------------------------------------------


def test_a_resync_accepted_without_a_job_to_follow_fails_saying_so(pipeline):
    p, run = _repair(pipeline, behaviour=Behaviour(resync_names_job=False))
    assert (run["state"], run["failure"]) == (
        "failed",
        "Site Recovery accepted the resync but named no job to follow",
    )
    assert len(_resyncs(p)) == 1  # the one write, audited; nothing posted twice


def test_a_resync_job_that_vanishes_fails_naming_the_job(pipeline):
    def vanishing(estate):
        resync = estate.resync

        def resync_then_lose_the_job(item):
            job = resync(item)
            estate.replication_jobs.clear()
            return job

        estate.resync = resync_then_lose_the_job

    _, run = _repair(pipeline, prepare=vanishing)
    assert timeline(run)[2:] == [
        ("start-resync", "next", "resync started (job <resync>)"),
        ("follow-job", "failed", "replication job <resync> vanished from the vault"),
    ]  # fmt: skip


def _job_ends(state: str, errors: list[dict]) -> Callable:
    """The resync job ends `state` with these JobErrorDetails; the item stays Critical."""

    def prepare(estate):
        poll = estate.poll_replication_job

        def poll_and_fail(job):
            if job.state == "InProgress" and job.polls_left <= 1:
                job.state, job.errors = state, errors
                return job
            return poll(job)

        estate.poll_replication_job = poll_and_fail

    return prepare


CBT_ERROR = {
    "serviceErrorDetails": {
        "code": "1004",
        "message": "Encountered an error while trying to fetch change blocks",
        "possibleCauses": "The CBT file of the VM is corrupted.",
        "recommendedAction": "Reset CBT on the VM and enable replication again.",
    },
    "providerErrorDetails": None,
    "errorLevel": "Error",
    "taskId": "ResyncTask",
}


@pytest.mark.parametrize(
    ("state", "errors", "said"),
    [
        ("Failed", [CBT_ERROR],
         "replication job <resync> ended Failed: Encountered an error while trying to fetch "
         "change blocks"),
        ("Failed", [], "replication job <resync> ended Failed"),
        ("Cancelled", [{"errorLevel": "Warning"}], "replication job <resync> ended Cancelled"),
        ("Suspended", [{"serviceErrorDetails": {"code": "x"}}],
         "replication job <resync> ended Suspended"),
    ],
)  # fmt: skip
def test_a_resync_job_that_does_not_succeed_fails_with_azures_words(pipeline, state, errors, said):
    p, run = _repair(pipeline, prepare=_job_ends(state, errors))
    assert run["state"] == "failed"
    assert timeline(run)[3:] == [
        ("follow-job", "wait", "resync job <resync> is InProgress"),
        ("follow-job", "failed", said),
    ]  # fmt: skip
    assert [e["result"] for e in _resyncs(p)] == ["ok"]


# -- a resync Azure took whose answer was lost ----------------------------------------------


@pytest.mark.parametrize(("status", "retried"), [(None, True), (504, False)])
def test_a_resync_whose_answer_was_lost_is_followed_not_posted_again(pipeline, status, retried):
    """Azure took the POST but its answer never came: the connection closed (the run retries
    the step later) or a gateway answered 504 (azure-core posts again at once, and Azure
    refuses the second resync as not allowed while the first runs). Either way the run
    follows the resync it started, instead of failing while that resync repairs the item."""
    lost = lambda faults: faults.lose_answer("asr.items.resync", status=status)  # noqa: E731
    p, run = _repair(pipeline, faults=lost)
    assert (run["state"], run["failure"]) == ("succeeded", None)
    steps = timeline(run)
    assert steps[:2] == START
    if retried:
        assert steps[2][:2] == ("start-resync", "wait")
    assert steps[2 + retried :] == [
        ("start-resync", "next", "resumed following resync job <resync>"),
        *FOLLOWED,
    ]  # fmt: skip
    assert _item(p.sim.estate).resync_count == 1  # one resync: the one whose answer was lost
    (job,) = p.sim.estate.replication_jobs.values()
    assert run["context"]["job"] == job.name


class Ticking:
    """A clock one second further on at each reading, shared by the engine and the simulated
    Azure: a step retried after a lost answer runs seconds after the POST it retries."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_a_lost_resync_is_adopted_when_its_retry_comes_seconds_later():
    """The retry looks for the resync its lost POST started before posting again: the
    second POST's refusal comes after a job that started before it was sent."""
    clock = Ticking()
    estate = estate_for([SIGNAL])
    estate.clock = clock
    with simulated_engine(estate, clock=clock) as (engine, sim):
        sim.faults.lose_answer("asr.items.resync")
        engine.ingest(SIGNAL)
        engine.queue.drain(engine.runner.handle, max_messages=MAX_MESSAGES)
        (run,) = engine.runs.all()
        assert (run["state"], run["failure"]) == ("succeeded", None)
        assert ("start-resync", "next", "resumed following resync job <resync>") in timeline(run)
        assert _item(sim.estate).resync_count == 1


# -- health read back -----------------------------------------------------------------------


def _relapses(errors: list[dict]) -> Callable:
    """The resync job succeeds, but the item is Critical again with these health errors."""

    def prepare(estate):
        poll = estate.poll_replication_job

        def poll_and_relapse(job):
            job = poll(job)
            if job.state == "Succeeded":
                job.target.health, job.target.health_errors = "Critical", errors
            return job

        estate.poll_replication_job = poll_and_relapse

    return prepare


@pytest.mark.parametrize(
    ("errors", "detail"),
    [
        ([{"errorCode": "1004", "summaryMessage": "Replication failed: unable to fetch changed "
           "blocks."}, {"errorCode": "2", "errorMessage": "a second error"}],
         "Replication failed: unable to fetch changed blocks."),
        ([], "no detail"),
        ([{"errorCode": "1004"}], "no detail"),
    ],
)  # fmt: skip
def test_health_that_never_comes_back_fails_with_the_first_error_azure_lists(
    pipeline, errors, detail
):
    _, run = _repair(pipeline, prepare=_relapses(errors))
    assert (run["state"], run["failure"]) == (
        "failed", f"the resync succeeded but replication is still Critical: {detail}",
    )  # fmt: skip


# -- a worker that dies around the resync POST ----------------------------------------------


class Crash(BaseException):
    """The worker process dies here: nothing after this line runs, nothing is caught."""


@contextmanager
def _dies_in_start_resync(
    monkeypatch, *, after_post: bool, prepare: Callable | None = None
) -> Iterator[tuple]:
    """A repair whose worker dies in start-resync, before or after its POST reached Azure;
    yields (engine, sim, the run as the dead worker left it) for the test to resume."""
    estate = estate_for([SIGNAL])
    if prepare:
        prepare(estate)
    post = Arm.resync

    def dying(self, item_id, **kwargs):
        if after_post:
            post(self, item_id, **kwargs)
        raise Crash

    with simulated_engine(estate) as (engine, sim):
        monkeypatch.setattr(Arm, "resync", dying)
        engine.ingest(SIGNAL)
        with pytest.raises(Crash):
            engine.queue.drain(engine.runner.handle, max_messages=MAX_MESSAGES)
        monkeypatch.setattr(Arm, "resync", post)
        (run,) = engine.runs.all()
        assert (run["state"], run["journal"][-1]["step"]) == ("running", "start-resync")
        yield engine, sim, run


def _resume(engine) -> dict:
    """Another worker starts: it resumes the orphaned run and runs it to its end."""
    assert len(engine.runner.resume_stale(sole_worker=True)) == 1
    engine.queue.drain(engine.runner.handle, max_messages=MAX_MESSAGES)
    (run,) = engine.runs.all()
    return run


@pytest.mark.parametrize("same_second", [False, True])
def test_a_worker_that_died_after_the_resync_post_is_followed_by_one_that_adopts_its_job(
    monkeypatch, same_second
):
    with _dies_in_start_resync(monkeypatch, after_post=True) as (engine, sim, died):
        item = _item(sim.estate)
        (job,) = sim.estate.replication_jobs.values()
        assert item.current_job["jobName"] == job.name
        if same_second:  # Azure dates the job to the very second the step started
            item.current_job["startTime"] = died["journal"][-1]["time"]
        run = _resume(engine)
        assert (run["state"], run["failure"]) == ("succeeded", None)
        assert run["context"]["job"] == job.name
        assert timeline(run) == [
            *START,
            ("start-resync", "next", "resumed following resync job <resync>"),
            *FOLLOWED,
        ]  # fmt: skip
        assert item.resync_count == 1  # one resync POST in all, by the worker that died
        assert len(sim.estate.replication_jobs) == 1


@pytest.mark.parametrize(
    "cycle",
    [
        {"jobName": "cycle-7", "jobId": "cycle-7", "startTime": "2025-06-02T20:00:00Z"},
        {"jobName": "cycle-7", "jobId": "cycle-7"},
        {"jobName": "cycle-7", "jobId": "cycle-7", "startTime": "at dawn"},
    ],
)
def test_a_worker_that_died_before_the_post_leaves_the_resync_to_the_next_one(monkeypatch, cycle):
    """A job already running on the item (a replication cycle started before the step, or
    one whose start time Azure omits or garbles) is not the resync: the next worker posts its
    own."""

    def cycling(estate):
        _item(estate).current_job = dict(cycle)

    with _dies_in_start_resync(monkeypatch, after_post=False, prepare=cycling) as (
        engine, sim, _
    ):  # fmt: skip
        assert sim.estate.replication_jobs == {}
        run = _resume(engine)
        (job,) = sim.estate.replication_jobs.values()
        assert (run["state"], run["context"]["job"]) == ("succeeded", job.name)
        assert timeline(run) == [
            *START, ("start-resync", "next", "resync started (job <resync>)"), *FOLLOWED,
        ]  # fmt: skip
        assert _item(sim.estate).resync_count == 1
