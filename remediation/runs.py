"""Durable playbook runs: each step journaled before and after, resumable after a crash.

A run document holds the step index, a delivery sequence number, the journal and the
playbook's scratch state. Every queue message names (run, step, seq); a message that does not
match the run's current position is a redelivery or a stale duplicate and changes nothing.

Each time a worker takes a run it raises the run's `epoch`; its ARM writes are fenced on that
epoch (azure/fence.py), so a worker that outlived its lease cannot write after another took
over. A run ends `succeeded` only when its last steps read the effect back from Azure;
`not-confirmed` when Azure does not show the failure (nothing written); `dry-run` when
writes are off (the reads done, the writes it would make listed).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from remediation.audit import AuditLog
from remediation.azure.api import ArmFor
from remediation.azure.fence import StaleLease, fenced
from remediation.azure.operations import ArmCallError
from remediation.clock import Clock, iso, parse_iso, utcnow
from remediation.leases import Leases
from remediation.playbooks.base import Playbook, RunContext, Step, StepFailed, StepResult
from remediation.playbooks.findings import error_facts
from remediation.playbooks.findings import reason as describe
from remediation.queue.base import Queue, StepMessage
from remediation.records import FixTarget, JournalEntry, Run
from remediation.store import Conflict, Documents, Store

log = logging.getLogger(__name__)

RUNS = "runs"
PARTITION = "run"
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "skipped", "not-confirmed", "dry-run"})
# Outcomes in which nothing was done to Azure: no cool-down follows them.
NOTHING_DONE = frozenset({"not-confirmed", "dry-run", "cancelled", "skipped"})
ACTIVE = frozenset({"queued", "running", "waiting"})
LEASE = timedelta(minutes=5)
MAX_JOURNAL = 200
MAX_CRASHES = 5  # attempts of one step that killed their worker before it fails the run
HOLD_RECHECK = 300.0  # seconds between two looks at a switch or window that holds a run


def new_run(
    playbook: str,
    incident_id: str,
    vm: str,
    target: FixTarget,
    decided_by: str,
    now: datetime,
    *,
    approval_id: str | None = None,
    choice: str | None = None,
    run_id: str | None = None,
) -> Run:
    return {
        "id": run_id or "run-" + uuid.uuid4().hex[:12],
        "incident_id": incident_id,
        "approval_id": approval_id,
        "choice": choice,
        "playbook": playbook,
        "vm": vm,
        "target": target,
        "state": "pending",
        "epoch": 0,
        "confirmed": False,
        "wrote": False,
        "outcome": None,
        "step": 0,
        "seq": 0,
        "failures": 0,
        "failing": False,
        "failure": None,
        "journal": [],
        "context": {},
        "decided_by": decided_by,
        "created": iso(now),
        "updated": iso(now),
        "lease_until": None,
    }


class Runs:
    """Run documents in the store."""

    def __init__(self, store: Store) -> None:
        self._docs = documents(store)

    def add(self, run: Run) -> bool:
        """Record a new run; False when a run with its id exists (another worker's)."""
        return self._docs.claim(run["id"], run)

    def get(self, run_id: str) -> Run | None:
        return self._docs.get(run_id)

    def all(self, **where: Any) -> list[Run]:
        return self._docs.all(**where)

    def for_incident(self, incident_id: str) -> list[Run]:
        return self.all(incident_id=incident_id)


def documents(store: Store) -> Documents[Run]:
    return Documents[Run](store, RUNS, PARTITION)


class Runner:
    """Executes one step per message and schedules the next."""

    def __init__(
        self,
        store: Store,
        queue: Queue,
        playbooks: dict[str, Playbook],
        arm_for: ArmFor,
        audit: AuditLog,
        *,
        dry_run: Callable[[], bool] = lambda: False,
        held: Callable[[Run], str | None] = lambda run: None,
        clock: Clock = utcnow,
        on_change: Callable[[Run], None] = lambda run: None,
        entries_of: Callable[[dict[str, Any]], frozenset[str]] = lambda payload: frozenset(),
    ) -> None:
        self._runs = documents(store)
        self._queue = queue
        self._playbooks = playbooks
        self._arm_for = arm_for
        self._audit = audit
        self._dry_run = dry_run
        self._held = held
        self._clock = clock
        self._on_change = on_change
        self._entries_of = entries_of
        self._leases = Leases(store, self._finished)

    def _finished(self, run_id: str) -> bool:
        run = self._runs.get(run_id)
        return run is None or run["state"] in TERMINAL

    def start(self, run_id: str) -> None:
        """Move a pending run to queued and send its first step."""
        run = self._runs.update(
            run_id, lambda r: {**r, "state": "queued"} if r["state"] == "pending" else r
        )
        if run["state"] == "queued":
            self._send(run)
            self._on_change(run)

    def resume_stale(self, *, sole_worker: bool = False) -> list[str]:
        """Re-send the current step of runs whose worker died.

        A run still `running` under a live lease belongs to another worker, unless this is the
        only worker (the local host at start-up): then any `running` run was orphaned.
        """
        now = self._clock()
        resumed = []
        for run in self._runs.all():
            if run["state"] not in ACTIVE:
                continue
            lease = run.get("lease_until")
            held = run["state"] == "running" and lease and parse_iso(lease) > now
            if held and not sole_worker:
                continue
            if held:
                run = self._runs.update(run["id"], lambda r: {**r, "lease_until": None})
            self._send(run)
            resumed.append(run["id"])
        return resumed

    def handle(self, message: StepMessage) -> None:
        found = self._runs.read(message.run_id)
        if found is None:
            log.warning("step message for unknown run %s dropped", message.run_id)
            return
        run, etag = found
        if run["state"] in TERMINAL or (message.step, message.attempt) != (run["step"], run["seq"]):
            log.info("stale or duplicate message %s ignored", message.message_id)
            return
        now = self._clock()
        if run["state"] == "running" and run["lease_until"] and parse_iso(run["lease_until"]) > now:
            log.info("run %s is held by another worker", run["id"])
            return
        playbook = self._playbooks[run["playbook"]]
        step = playbook.steps[run["step"]]
        interrupted = _interrupted_at(run, step.name)
        crashed = _unfinished_starts(run, step.name)
        held = self._hold(run, step)
        run = {
            **run,
            "state": "running",
            "lease_until": iso(now + LEASE),
            "epoch": run.get("epoch", 0) + 1,
            "wrote": run.get("wrote") or (step.writes and held is None),
        }
        _journal(run, step.name, "start", now)
        try:
            etag = self._runs.replace(run["id"], run, etag)
        except Conflict:
            log.info("run %s moved on under us; message %s dropped", run["id"], message.message_id)
            return
        if crashed >= MAX_CRASHES and not step.always:  # it stops whichever worker runs it
            result = StepResult.failed(f"{step.name} stopped its worker {crashed} times")
            self._advance(playbook, run, etag, step.name, result)
            return
        try:
            with fenced(self._fence(run["id"], run["epoch"])):
                result = held or self._execute(playbook, run, step, interrupted)
        except StaleLease as exc:  # another worker holds the run now: leave it to them
            log.warning("step %s of run %s abandoned: %s", step.name, run["id"], exc)
            return
        self._advance(playbook, run, etag, step.name, result)

    def _hold(self, run: Run, step: Step) -> StepResult | None:
        """A write the policy does not allow now (paused; an automatic fix outside its
        window): a run that wrote nothing yet waits and looks again; one that did is stopped
        so that its compensation (the lock put back) runs now, not after the next window.
        Compensation itself is never held."""
        if not step.writes or step.always:
            return None
        why = self._held(run)
        if why is None:
            return None
        if run.get("wrote"):
            return StepResult.failed(f"Stopped before {step.name}: {why}. Retry the fix to "
                                     "finish it.")  # fmt: skip
        return StepResult.wait(HOLD_RECHECK, f"held before {step.name}: {why}")

    def _fence(self, run_id: str, epoch: int) -> Callable[[], None]:
        """The check made right before each ARM write of this step: the run is still held
        by this worker (same epoch, still running)."""

        def check() -> None:
            current = self._runs.get(run_id)
            if current is None or current.get("epoch") != epoch or current["state"] != "running":
                raise StaleLease(f"run {run_id} moved to another worker (epoch {epoch})")

        return check

    def _execute(
        self, playbook: Playbook, run: Run, step: Step, interrupted: str | None
    ) -> StepResult:
        dry_run = self._dry_run()
        if step.writes and dry_run:
            return self._dry_run_result(playbook, run, step)
        ctx = RunContext(run, self._arm_for(run), dry_run, self._clock, interrupted, self._leases,
                         self._entries_of)  # fmt: skip
        try:
            return step.run(ctx)
        except StaleLease:
            raise
        except (StepFailed, ArmCallError) as exc:
            _remember_error(run, step.name, exc)
            if step.always:  # compensation never gives up: protection must come back
                return self._retry_later(run, step, str(exc))
            return StepResult.failed(str(exc))
        except Exception as exc:  # a transient ARM error after azure-core's own retries
            _remember_error(run, step.name, exc)
            reason = f"{step.name}: {describe(exc)}"
            if run["failures"] + 1 >= playbook.max_attempts and not step.always:
                run["failures"] += 1
                return StepResult.failed(f"{reason} ({run['failures']} attempts)")
            return self._retry_later(run, step, reason)

    @staticmethod
    def _dry_run_result(playbook: Playbook, run: Run, step: Step) -> StepResult:
        """Writes are off: the run ends here, listing what it would have written. A
        compensation step reached this way has nothing to undo."""
        if step.always or run.get("outcome") == "dry-run":
            return StepResult.next("dry run: nothing to undo")
        planned = playbook.planned_writes(run["step"])
        run["context"]["planned_writes"] = planned
        run["outcome"] = "dry-run"
        return StepResult.next("dry run, nothing written; would " + "; then ".join(planned))

    @staticmethod
    def _retry_later(run: Run, step: Step, reason: str) -> StepResult:
        run["failures"] += 1
        log.warning("run %s step %s attempt %d failed: %s", run["id"], step.name,
                    run["failures"], reason)  # fmt: skip
        delay = min(300.0, 5.0 * 2 ** min(run["failures"] - 1, 10))
        return StepResult.wait(delay, f"retry {run['failures']}: {reason}")

    def _advance(
        self, playbook: Playbook, run: Run, etag: str, step_name: str, result: StepResult
    ) -> None:
        now = self._clock()
        _journal(run, step_name, result.kind, now, result.note)
        step = playbook.steps[run["step"]]
        if result.kind == "wait":
            run.update({"state": "waiting", "seq": run["seq"] + 1})
        else:
            if result.kind == "failed":
                run.update({"failing": True, "failure": run["failure"] or result.note})
            elif result.kind == "unconfirmed":
                run.update({"outcome": "not-confirmed", "failure": result.note})
            elif step.confirms:
                run["confirmed"] = True
            run["failures"] = 0
            following = self._following(playbook, run)
            if following is None:
                final = "failed" if run["failing"] else run.get("outcome") or "succeeded"
                run.update({"state": final, "lease_until": None})
            else:
                run.update({"step": following, "seq": run["seq"] + 1, "state": "queued"})
        run["updated"] = iso(now)
        if run["state"] != "running":
            run["lease_until"] = None
        try:
            self._runs.replace(run["id"], run, etag)
        except Conflict:
            log.warning("run %s changed while step %s ran", run["id"], step_name)
            return
        if run["state"] in TERMINAL:
            if run["state"] == "failed":
                log.warning("run %s (%s for %s) failed: %s", run["id"], run["playbook"],
                            run["vm"], run["failure"])  # fmt: skip
            self._audit.record(
                run["decided_by"], f"playbook {run['playbook']}", run["vm"], run["state"],
                run_id=run["id"], reason=run["failure"],
            )  # fmt: skip
        else:
            self._send(run, delay=result.delay_seconds if result.kind == "wait" else 0.0)
        self._on_change(run)

    def _following(self, playbook: Playbook, run: Run) -> int | None:
        """The next step; once the run is failing or its outcome is settled early (not
        confirmed, dry run), only the compensation steps that follow still run."""
        index = run["step"]
        if run["failing"] or run.get("outcome"):
            return playbook.first_always_after(index)
        return index + 1 if index + 1 < len(playbook.steps) else None

    def _send(self, run: Run, delay: float = 0.0) -> None:
        session = run["target"].get("resource_id") or run["vm"]
        self._queue.send(
            StepMessage(run["id"], run["step"], run["seq"], session_id=session, delay_seconds=delay)
        )


def _remember_error(run: Run, step: str, exc: BaseException) -> None:
    """What Azure answered when `step` failed (status, code, message, request id), for the
    card's Details: the failure sentence says it for people, this is the evidence behind it."""
    facts = error_facts(exc)
    if facts:
        run["context"]["error"] = {"step": step, **facts}


def _interrupted_at(run: Run, step: str) -> str | None:
    """Start time of an earlier attempt of `step` that never journaled its end."""
    journal = run["journal"]
    if journal and journal[-1]["step"] == step and journal[-1]["phase"] == "start":
        return journal[-1]["time"]
    return None


def _unfinished_starts(run: Run, step: str) -> int:
    """How many attempts of `step` in a row died before they journaled an end."""
    count = 0
    for entry in reversed(run["journal"]):
        if entry["step"] != step or entry["phase"] != "start":
            break
        count += 1
    return count


def _journal(run: Run, step: str, phase: str, now: datetime, note: str = "") -> None:
    entry: JournalEntry = {"step": step, "phase": phase, "time": iso(now)}
    if note:
        entry["note"] = note[:500]
    run["journal"] = [*run["journal"], entry][-MAX_JOURNAL:]
