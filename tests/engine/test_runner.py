"""The durable runner as a fix depends on it, in-process: transient errors retried with
growing delays then given up with the count, compensation that never gives up, a worker that
dies mid-step resumed by another (which is told when the step was interrupted), stale and
duplicate messages ignored, a run held under another worker's lease left alone, and writes
fenced once another worker took the run over. The crash tests with real processes are in
tests/reliability; these are the same rules where mutation testing can see them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediation.audit import AuditLog
from remediation.azure.fence import check_fence
from remediation.playbooks.base import Playbook, Step, StepFailed, StepResult
from remediation.queue.base import StepMessage
from remediation.queue.memory import InProcessQueue
from remediation.runs import Runner, Runs, new_run
from remediation.store import SqliteStore
from tests.engine.conftest import Clock


class Crash(BaseException):
    """The worker process dies here: nothing after this line runs, nothing is caught."""


class Recording(InProcessQueue):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[StepMessage] = []

    def send(self, message) -> None:
        self.sent.append(message)
        super().send(message)


class Script:
    """Steps whose behaviour each test sets: a list of outcomes, taken in turn."""

    def __init__(self) -> None:
        self.outcomes: dict[str, list] = {}
        self.seen: list[tuple[str, str | None]] = []  # (step, interrupted_at)

    def step(self, name: str):
        def run(ctx):
            self.seen.append((name, ctx.interrupted_at))
            todo = self.outcomes.get(name) or []
            outcome = todo.pop(0) if todo else StepResult.next(f"{name} done")
            if callable(outcome):
                outcome = outcome(ctx)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return run


@pytest.fixture
def rig():
    class Rig:
        clock = Clock()
        store = SqliteStore(":memory:")
        queue = Recording()
        script = Script()
        audit = AuditLog(store, clock)
        playbook = Playbook(
            "test-fix",
            (
                Step("check", script.step("check"), confirms=True),
                Step("write", script.step("write"), writes=True, plans="write the fix"),
                Step("undo", script.step("undo"), writes=True, always=True, plans="undo it"),
            ),
        )
        dry = False

        def runner(self) -> Runner:
            return Runner(self.store, self.queue, {"test-fix": self.playbook}, lambda run: None,
                          self.audit, dry_run=lambda: self.dry, clock=self.clock)  # fmt: skip

        def start(self) -> dict:
            target = {"vm": "vm-1", "resource_id": "/subscriptions/s/vm-1"}
            run = new_run("test-fix", "inc-1", "vm-1", target, "user:alice", self.clock())
            Runs(self.store).add(run)
            self.runner().start(run["id"])
            return run

        def drain(self) -> None:
            """Every message; a run that never ends fails at once (these take under 40)."""
            self.queue.drain(self.runner().handle, max_messages=200)
            assert len(self.queue) == 0, "a run never ended: its steps kept being rescheduled"

        def run(self, run_id: str) -> dict:
            return Runs(self.store).get(run_id)

    return Rig()


def _ends(run) -> list[tuple[str, str, str]]:
    return [(j["step"], j["phase"], j.get("note", "")) for j in run["journal"]
            if j["phase"] != "start"]  # fmt: skip


def test_a_new_run_starts_clean_and_its_messages_are_sessioned_by_resource(rig):
    run = rig.start()
    assert run["id"].startswith("run-") and len(run["id"]) == 16
    stored = rig.run(run["id"])
    assert (stored["state"], stored["step"], stored["seq"], stored["epoch"]) == ("queued", 0, 0, 0)
    assert (stored["failures"], stored["wrote"], stored["outcome"]) == (0, False, None)
    (first,) = rig.queue.sent
    assert (first.run_id, first.step, first.attempt, first.session_id, first.delay_seconds) == (
        run["id"], 0, 0, "/subscriptions/s/vm-1", 0.0,
    )  # fmt: skip
    rig.runner().start(run["id"])  # a second start sends the same message: deduplicated
    assert len(rig.queue) == 1


def test_a_clean_run_journals_each_step_and_is_audited_once(rig):
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert done["state"] == "succeeded" and done["confirmed"] is True and done["wrote"] is True
    assert _ends(done) == [
        ("check", "next", "check done"), ("write", "next", "write done"),
        ("undo", "next", "undo done"),
    ]  # fmt: skip
    assert [j["phase"] for j in done["journal"]] == ["start", "next"] * 3
    assert all(j["time"] for j in done["journal"])
    assert done["lease_until"] is None and done["epoch"] == 3 and done["seq"] == 2
    assert [m.delay_seconds for m in rig.queue.sent] == [0.0, 0.0, 0.0]
    (audited,) = [e for e in rig.audit.entries() if e["action"] == "playbook test-fix"]
    assert (audited["actor"], audited["target"], audited["result"], audited["run_id"]) == (
        "user:alice", "vm-1", "succeeded", run["id"],
    )  # fmt: skip
    assert audited["reason"] is None


def test_transient_errors_are_retried_with_growing_delays_then_given_up(rig):
    rig.script.outcomes["write"] = [RuntimeError("socket closed")] * 4
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert done["state"] == "failed"
    # people read the failure; the exception itself is in the log
    assert done["failure"] == (
        "write: an unexpected error in the app (its log has the details) (4 attempts)"
    )
    assert _ends(done)[1:4] == [
        (
            "write",
            "wait",
            f"retry {n}: write: an unexpected error in the app (its log has the details)",
        )
        for n in (1, 2, 3)
    ]
    assert [m.delay_seconds for m in rig.queue.sent if m.step == 1] == [0.0, 5.0, 10.0, 20.0]
    assert _ends(done)[-1] == ("undo", "next", "undo done"), "compensation runs after failure"
    audited = [e for e in rig.audit.entries() if e["action"] == "playbook test-fix"][-1]
    assert (audited["result"], audited["reason"]) == ("failed", done["failure"])


def test_a_step_that_recovers_resets_the_attempt_count(rig):
    rig.script.outcomes["check"] = [RuntimeError("blip")] * 3
    rig.script.outcomes["write"] = [RuntimeError("blip")] * 3
    run = rig.start()
    rig.drain()
    assert rig.run(run["id"])["state"] == "succeeded"


def test_backoff_is_capped_at_five_minutes(rig):
    rig.playbook = Playbook("test-fix", rig.playbook.steps, max_attempts=99)
    rig.script.outcomes["write"] = [RuntimeError("down")] * 9
    run = rig.start()
    rig.drain()
    delays = [m.delay_seconds for m in rig.queue.sent if m.step == 1][1:]
    assert delays == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert rig.run(run["id"])["state"] == "succeeded"


def test_a_failing_compensation_is_retried_until_it_succeeds(rig):
    rig.script.outcomes["write"] = [StepFailed("Azure said no")]
    rig.script.outcomes["undo"] = [StepFailed("lock API busy")] * 6
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert (done["state"], done["failure"]) == ("failed", "Azure said no")
    undo = [e for e in _ends(done) if e[0] == "undo"]
    assert undo[:6] == [("undo", "wait", f"retry {n}: lock API busy") for n in range(1, 7)]
    assert undo[-1] == ("undo", "next", "undo done")


def test_a_permanent_failure_is_not_retried(rig):
    rig.script.outcomes["write"] = [StepFailed("the VM is gone")]
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert (done["state"], done["failure"]) == ("failed", "the VM is gone")
    assert [s for s, _ in rig.script.seen] == ["check", "write", "undo"]


def test_a_wait_reschedules_the_same_step_after_its_delay(rig):
    rig.script.outcomes["check"] = [StepResult.wait(600.0, "job running")]
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert _ends(done)[0] == ("check", "wait", "job running")
    assert [(m.step, m.attempt, m.delay_seconds) for m in rig.queue.sent][:3] == [
        (0, 0, 0.0), (0, 1, 600.0), (1, 2, 0.0),
    ]  # fmt: skip


def test_an_unconfirmed_run_writes_nothing_but_still_compensates(rig):
    rig.script.outcomes["check"] = [StepResult.unconfirmed("Azure shows no failure")]
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert (done["state"], done["failure"], done["outcome"]) == (
        "not-confirmed", "Azure shows no failure", "not-confirmed",
    )  # fmt: skip
    assert [s for s, _ in rig.script.seen] == ["check", "undo"]
    assert not done.get("confirmed")


def test_a_dry_run_lists_its_writes_and_undoes_nothing(rig):
    rig.dry = True
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    assert done["state"] == "dry-run"
    assert _ends(done) == [
        ("check", "next", "check done"),
        ("write", "next", "dry run, nothing written; would write the fix; then undo it"),
        ("undo", "next", "dry run: nothing to undo"),
    ]
    assert done["context"]["planned_writes"] == ["write the fix", "undo it"]
    assert [s for s, _ in rig.script.seen] == ["check"]


def test_a_worker_that_dies_mid_step_is_resumed_and_told_when_it_was_interrupted(rig):
    rig.script.outcomes["write"] = [Crash()]
    run = rig.start()
    with pytest.raises(Crash):
        rig.drain()
    died = rig.run(run["id"])
    assert (died["state"], died["step"]) == ("running", 1)
    started = died["journal"][-1]
    assert (started["step"], started["phase"]) == ("write", "start")
    assert rig.runner().resume_stale() == [], "under a live lease: another worker's"
    assert rig.runner().resume_stale(sole_worker=True) == [run["id"]]
    assert rig.run(run["id"])["lease_until"] is None
    rig.drain()
    assert ("write", started["time"]) in rig.script.seen
    assert ("check", None) in rig.script.seen and ("undo", None) in rig.script.seen
    done = rig.run(run["id"])
    assert done["state"] == "succeeded" and done["epoch"] == 4


def test_a_dead_workers_run_is_resumed_by_any_worker_once_its_lease_ran_out(rig):
    rig.script.outcomes["check"] = [Crash()]
    run = rig.start()
    with pytest.raises(Crash):
        rig.drain()
    rig.clock.now += timedelta(minutes=5) - timedelta(seconds=1)
    assert rig.runner().resume_stale() == [], "the lease holds five minutes"
    rig.clock.now += timedelta(seconds=1)
    assert rig.runner().resume_stale() == [run["id"]]
    rig.drain()
    assert rig.run(run["id"])["state"] == "succeeded"


def test_finished_and_waiting_runs_are_resent_only_while_active(rig):
    rig.script.outcomes["check"] = [StepResult.wait(60.0, "later")]
    run = rig.start()
    rig.queue.drain(rig.runner().handle, max_messages=1)
    assert rig.run(run["id"])["state"] == "waiting"
    assert rig.runner().resume_stale() == [run["id"]]
    rig.drain()
    assert rig.runner().resume_stale() == []


def test_a_message_for_a_run_held_by_a_live_worker_changes_nothing(rig):
    rig.script.outcomes["check"] = [Crash()]
    run = rig.start()
    with pytest.raises(Crash):
        rig.drain()
    held = rig.run(run["id"])
    rig.runner().handle(StepMessage(run["id"], held["step"], held["seq"]))
    assert rig.run(run["id"]) == held
    assert rig.script.seen == [("check", None)]


@pytest.mark.parametrize("position", [(0, 1), (1, 0), (5, 0)])
def test_a_stale_or_duplicate_message_changes_nothing(rig, position):
    run = rig.start()
    before = rig.run(run["id"])
    rig.runner().handle(StepMessage(run["id"], *position))
    assert rig.run(run["id"]) == before
    assert rig.script.seen == []


def test_a_message_for_a_finished_run_changes_nothing(rig):
    run = rig.start()
    rig.drain()
    done = rig.run(run["id"])
    rig.runner().handle(StepMessage(run["id"], done["step"], done["seq"]))
    assert rig.run(run["id"]) == done
    rig.runner().handle(StepMessage("run-unknown", 0, 0))  # dropped, not raised


def test_a_worker_whose_run_was_taken_over_writes_nothing(rig):
    def taken_over(ctx):
        rig.store.update("runs", "run", ctx.run["id"], lambda r: {**r, "epoch": r["epoch"] + 1})
        check_fence()  # what the ARM pipeline does right before a write
        return StepResult.next("wrote anyway")

    rig.script.outcomes["write"] = [taken_over]
    run = rig.start()
    rig.drain()
    after = rig.run(run["id"])
    assert all(j.get("note") != "wrote anyway" for j in after["journal"])
    assert (after["state"], after["step"]) == ("running", 1), "left to the worker that took it"


def test_a_run_that_another_worker_finished_is_not_fenced_open(rig):
    seen = []

    def finished_elsewhere(ctx):
        rig.store.update("runs", "run", ctx.run["id"], lambda r: {**r, "state": "succeeded"})
        try:
            check_fence()
        except Exception as exc:
            seen.append(str(exc))
            raise
        return StepResult.next("wrote anyway")

    rig.script.outcomes["write"] = [finished_elsewhere]
    run = rig.start()
    rig.drain()
    assert seen == [f"run {run['id']} moved to another worker (epoch 2)"]
