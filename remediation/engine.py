"""The pipeline: signal -> dedup -> classify -> incident -> policy -> fix or approval -> card.

One direction, no back and forth: each stage hands a value to the next, and every state
change of an incident, a run or an approval ends in one card post or update.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any

from remediation import resolution
from remediation.approvals import Approvals, Approver, Outcome
from remediation.audit import AuditLog
from remediation.azure.api import ArmFor
from remediation.classify import Classification, Classifier
from remediation.clock import Clock, iso, parse_iso, utcnow
from remediation.incidents import Correlation, Incidents, add_note, in_doubt
from remediation.notify import Notifier, View
from remediation.oncall import (
    APPROVAL_VERBS,
    INCIDENT_VERBS,
    RUN_VERBS,
    Acted,
    OnCall,
    checked_id,
    clean_note,
)
from remediation.outcomes import assess, latest_run_per_vm
from remediation.playbooks.base import Playbook
from remediation.playbooks.findings import reason as describe
from remediation.policy import PAUSED, Policy, Target
from remediation.queue.base import (
    IngestMessage,
    Message,
    Queue,
    QueueError,
    QueueUnavailable,
    StepMessage,
)
from remediation.records import Approval, Caller, FixTarget, Incident, Plan, Related, Run
from remediation.runs import ACTIVE, NOTHING_DONE, TERMINAL, Runner, Runs, new_run
from remediation.scope import FIX_JOB, Ignored, ignored_because, summary_of
from remediation.signals import signals_from_payload
from remediation.signals.migration_item import recovery_key
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.store import Conflict, InvalidData, NotFound, Record, Store
from remediation.watch import Watch

log = logging.getLogger(__name__)

SEEN = "signals"
ACCEPTED, PROCESSED, ABANDONED = "accepted", "processed", "abandoned"
REQUEUE_GRACE = timedelta(minutes=2)
DECISION_GRACE = timedelta(minutes=2)  # an accepted approval's worker starts its runs within
MAX_REQUEUES = 5
MAX_TRIES = 5  # processing attempts of one signal, as Service Bus delivers one message
CARD_INTERVAL = timedelta(seconds=10)
SWITCHES = "switches"
FLOOD = "flood"
MAX_RELATED = 5
OUTSIDE_WINDOW = "outside the maintenance window"
SHOWN_FAILED = 5  # failed runs whose ARM writes a card's Details quote


@dataclass(frozen=True, slots=True)
class Accepted:
    duplicate: bool
    dedup_key: str


@dataclass(frozen=True, slots=True)
class Ingested:
    duplicate: bool
    classification: Classification | None = None
    incident_id: str | None = None
    created: bool = False


@dataclass
class Started:
    """The runs `_start_runs` started, and why it started none for the other targets (each
    reason also noted on the incident): an approval that starts nothing says its own why."""

    ids: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass
class Counters:
    signals: int = 0
    duplicates: int = 0
    notifications: int = 0
    card_updates: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Engine:
    def __init__(
        self,
        store: Store,
        classifier: Classifier,
        policy: Callable[[], Policy],
        queue: Queue,
        notifier: Notifier,
        playbooks: dict[str, Playbook],
        arm_for: ArmFor,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.classifier = classifier
        self._policy = policy
        self.queue = queue
        self.notifier = notifier
        self.clock = clock
        self.audit = AuditLog(store, clock)
        self.incidents = Incidents(store, clock)
        self.runs = Runs(store)
        self.approvals = Approvals(store, self.audit, clock)
        self.watch = Watch(store, clock)
        self.oncall = OnCall(self.incidents, self.approvals, self.audit, self.policy, clock)
        self.counters = Counters()
        self.playbooks = playbooks
        self._arm_for = arm_for
        self.runner = Runner(
            store, queue, playbooks, arm_for, self.audit,
            dry_run=lambda: self.policy().dry_run, held=self._held, clock=clock,
            on_change=self._run_changed,
            entries_of=self.entries_of,
        )  # fmt: skip

    # -- policy with runtime switches from chat ------------------------------------------
    def policy(self) -> Policy:
        base = self._policy()
        switches = self.store.get(SWITCHES, "switch", "automation")
        if switches is None:
            return base
        data = switches.data
        return replace(
            base,
            paused=data.get("paused", base.paused),
            dry_run=data.get("dry_run", base.dry_run),
        )

    def _held(self, run: Run) -> str | None:
        """Why the policy holds a run's next write now (None when it may write): the kill
        switch, or a maintenance window closed to an automatic fix."""
        policy = self.policy()
        if policy.paused:
            return PAUSED
        if run["decided_by"].startswith("policy:") and not policy.in_window(self.clock()):
            return OUTSIDE_WINDOW
        return None

    def set_switch(self, name: str, value: bool, actor: str) -> None:
        """Kill switch and dry-run toggled from chat; audited."""
        self.store.update(SWITCHES, "switch", "automation", lambda d: {**(d or {}), name: value})
        self.audit.record(actor, f"set {name}", "automation", "ok", value=value)

    # -- ingestion ------------------------------------------------------------------------
    # A signal is first claimed under its dedup key with the signal itself in the claim record
    # (durably recorded: the webhook may answer 202), then processed, which marks the record.
    # `accept` + a queue message + `process` is the webhook's path; `ingest` does both inline.

    async def accept(self, signal: Signal) -> Accepted:
        """Record `signal` and queue its processing; raises QueueUnavailable when the send fails
        (the record stays and `requeue_unprocessed` sends it later). Async: the webhooks run
        it on the event loop, so the I/O goes through the store's and queue's async twins.

        A duplicate sends nothing, unless its first delivery's send failed and the sender is
        retrying: a recorded signal still unprocessed is sent again under the same message id,
        which the queue deduplicates, and processing it twice is a no-op.
        """
        self.counters.signals += 1
        key = signal.dedup_key
        record = self._claim_document(signal)
        try:
            claimed = await self.store.aclaim(SEEN, key[:2], key, record)
        except InvalidData:
            claimed = await self.store.aclaim(SEEN, key[:2], key, _without_extras(record, key))
        if claimed:
            message = IngestMessage(key, 0, record["session"])
        else:
            self.counters.duplicates += 1
            seen = await self.store.aget(SEEN, key[:2], key)
            if seen is None or seen.data.get("state") != ACCEPTED:
                return Accepted(True, key)
            message = _ingest_message(seen)
        try:
            await self.queue.asend(message)
        except Exception as exc:  # any transport failure: the record stays for the sweep
            raise _unsent(message, exc) from exc
        return Accepted(not claimed, key)

    def entries_of(self, payload: dict[str, Any]) -> frozenset[str]:
        """The catalogue entries the failures in an Azure resource (a Backup job, a migration
        item) classify to: how a playbook checks that Azure shows the incident's error."""
        try:
            signals = signals_from_payload(payload)
        except SignalError:
            return frozenset()
        found = (self.classifier.classify(s).entry_id for s in signals if not s.resolved)
        return frozenset(entry for entry in found if entry)

    def process(self, dedup_key: str) -> Ingested:
        """Classify, correlate and notify the recorded signal once; a redelivery is a no-op.

        Each attempt is counted in the record before it starts, so a signal whose processing
        keeps failing (its messages dead-lettered) is abandoned after MAX_TRIES, whichever
        delivery or timer sweep brings it back: dead letters stay dead."""
        record = self.store.get(SEEN, dedup_key[:2], dedup_key)
        if record is None or record.data.get("state") != ACCEPTED:
            log.info("signal %s is not waiting to be processed; message ignored", dedup_key)
            return Ingested(duplicate=True)
        tries = record.data.get("tries", 0) + 1
        if tries > MAX_TRIES:
            log.error("signal %s failed to process %d times; abandoned", dedup_key, tries - 1)
            self._settle(dedup_key, ABANDONED)
            return Ingested(duplicate=True)
        self.store.change(SEEN, dedup_key[:2], dedup_key, lambda doc: {**doc, "tries": tries})
        try:
            signal = Signal.from_dict(record.data.get("signal"))
        except SignalError as exc:
            log.error("recorded signal %s cannot be read, abandoned: %s", dedup_key, exc)
            self._settle(dedup_key, ABANDONED)
            return Ingested(duplicate=True)
        return self._process(signal, dedup_key)

    def ingest(self, signal: Signal, *, from_azure: bool = False) -> Ingested:
        """Record and process one signal inline; idempotent per dedup key. `from_azure`: the
        poller read it from Azure itself, so a resolution it reports needs no check."""
        self.counters.signals += 1
        key = signal.dedup_key
        if not self._claim(signal, key):
            self.counters.duplicates += 1
            return Ingested(duplicate=True)
        return self._process(signal, key, from_azure)

    def handle(self, message: Message) -> None:
        """The queue's one entry: an ingest message or a playbook step."""
        if isinstance(message, IngestMessage):
            self.process(message.dedup_key)
        elif isinstance(message, StepMessage):
            self.runner.handle(message)
        else:
            raise QueueError(f"not a remediation queue message: {type(message).__name__}")

    def requeue_unprocessed(self, older_than: timedelta = REQUEUE_GRACE) -> int:
        """Re-send recorded signals whose processing never happened (the process died between
        record and send, or the message failed); gives up after MAX_REQUEUES. The timer runs it."""
        now = self.clock()
        sent = 0
        for record in self.store.query(SEEN, where={"state": ACCEPTED}):
            data = record.data
            if now - parse_iso(data["queued"]) < older_than:
                continue
            if data["attempt"] >= MAX_REQUEUES:
                log.error("signal %s was never processed after %d sends; abandoned",
                          record.key, data["attempt"] + 1)  # fmt: skip
                self._settle(record.key, ABANDONED)
                continue
            again = {**data, "attempt": data["attempt"] + 1, "queued": iso(now)}
            try:
                record = self.store.replace(SEEN, record.partition, record.key, again,
                                            etag=record.etag)  # fmt: skip
            except (Conflict, NotFound):  # processed meanwhile, or another sweep got there
                continue
            try:
                self._send(_ingest_message(record))
            except QueueUnavailable:  # the next cycle tries again
                break
            sent += 1
        return sent

    def _claim(self, signal: Signal, key: str) -> bool:
        record = self._claim_document(signal)
        try:
            return self.store.claim(SEEN, key[:2], key, record)
        except InvalidData:
            return self.store.claim(SEEN, key[:2], key, _without_extras(record, key))

    def _claim_document(self, signal: Signal) -> dict[str, Any]:
        now = iso(self.clock())
        return {"seen": now, "queued": now, "state": ACCEPTED, "attempt": 0,
                "session": _session(signal), "signal": signal.to_dict()}  # fmt: skip

    def _send(self, message: IngestMessage) -> None:
        try:
            self.queue.send(message)
        except Exception as exc:  # any transport failure: the record stays for the sweep
            raise _unsent(message, exc) from exc

    def _settle(self, key: str, state: str) -> None:
        """Mark the record; a processed one sheds its signal, which the incident now holds."""

        def settled(doc: dict[str, Any] | None) -> dict[str, Any]:
            doc = {**(doc or {}), "state": state}
            if state == PROCESSED:
                doc.pop("signal", None)
            return doc

        self.store.update(SEEN, key[:2], key, settled)

    def _process(self, signal: Signal, key: str, from_azure: bool = False) -> Ingested:
        """`key` is the record's: a signal recorded before a change to the dedup rule is settled
        where it was recorded. A signal out of scope or not a failure is only recorded so."""
        found = self.classifier.classify(signal)
        ignored = ignored_because(signal, found, self.policy().scope) or self._fix_job(
            signal, found
        )
        if ignored:
            summary = summary_of(signal)
            self.store.update(SEEN, key[:2], key, lambda doc: ignored.settle(doc, summary))
            self.counters.extra[ignored.state] = self.counters.extra.get(ignored.state, 0) + 1
            return Ingested(False, found)
        if signal.resolved and not from_azure and not self._resolution_holds(signal, found):
            self.store.delete(SEEN, key[:2], key)  # not true yet: when it comes again, read again
            return Ingested(False, found)
        result = self._correlate(signal, found)
        self._settle(key, PROCESSED)
        if (
            signal.source is SourceKind.MIGRATION_ITEM
            and signal.resource_id
            and not signal.resolved
        ):
            recovered = recovery_key(signal.resource_id)  # failing again: its recovery is news
            self.store.delete(SEEN, recovered[:2], recovered)
        return result

    def _fix_job(self, signal: Signal, found: Classification) -> Ignored | None:
        """A Backup job one of the fixes of this VM ran and followed, failing with the error
        that fix was about, is not news: Azure alerts on each failed job, the cleanup's
        deliberate first failure included, and the fix's card already tells what that job
        did. Another error the job hit is news (the card's "other fix" opens it too)."""
        job = (signal.job_id or "").rsplit("/", 1)[-1].lower()
        if not job or not signal.vm or not found.entry_id:
            return None
        for run in self.runs.all(vm=signal.vm):
            if run["target"].get("entry_id") != found.entry_id:
                continue
            if job in (j.lower() for j in (run.get("context") or {}).get("jobs_followed") or []):
                return Ignored(FIX_JOB, f"backup job {job} was run by fix {run['id']}")
        return None

    def _correlate(self, signal: Signal, classification: Classification) -> Ingested:
        cleared = self.incidents.clear(signal)
        for joined in cleared:
            self._follow(joined, signal)
        if cleared:
            return Ingested(False, classification, cleared[0].incident["id"], False)
        correlation = self.incidents.correlate(signal, classification)
        if correlation is None:
            return Ingested(False, classification)
        incident = correlation.incident
        if correlation.created:
            if self._flooded(signal, incident):
                return Ingested(False, classification, incident["id"], True)
            self._plan(incident, classification, signal)
            self._post(incident["id"])
        else:
            self._follow(correlation, signal)
        return Ingested(False, classification, incident["id"], correlation.created)

    def _follow(self, correlation: Correlation, signal: Signal) -> None:
        """What a signal joining an existing incident changes beyond it: the fix's reach, the
        approvals of a failure that cleared, the card."""
        incident = correlation.incident
        if not correlation.changed:
            return
        if incident["status"] != "open":
            self._withdraw_approvals(incident["id"], "the failure cleared in Azure")
        if signal.resolved:
            self._settle_incident(incident["id"])  # a recovery may leave nothing failing
        else:
            self._extend(incident["id"])
        self._refresh(incident["id"], urgent=signal.resolved)

    def _resolution_holds(self, signal: Signal, classification: Classification) -> bool:
        """A resolved signal from a webhook is a hint: Azure must agree before it closes
        anything. When it does not, each incident it would close says so and stays open."""
        found = self.incidents.find_open(signal, classification)
        closing = self.incidents.cleared_by(signal) or ([found] if found else [])
        if not closing:
            return True  # nothing to close
        reader: Caller = {"id": "", "target": _target_of(signal), "decided_by": "engine"}
        holds, why = resolution.confirmed(lambda: self._arm_for(reader), signal)
        if not holds:
            for incident in closing:
                self._note(
                    incident["id"], f"{signal.vm}: resolved alert not confirmed by Azure ({why})"
                )
                self._refresh(incident["id"])
        return holds

    def _flooded(self, signal: Signal, incident: Incident) -> bool:
        """Past the policy's rate of new incidents per source and subscription, a new incident
        is held: no card of its own, no fix; one flood card counts them instead."""
        limits = self.policy().limits
        window = max(limits.flood_window.total_seconds(), 1.0)
        bucket = int(self.clock().timestamp() // window)
        gate = f"{signal.source.value}|{(signal.subscription_id or '-').lower()}|{bucket}"
        counted = self.store.update(FLOOD, "gate", gate, _count_one)
        held = counted.data["count"] - limits.new_incidents_per_window
        if held <= 0:
            return False
        plan: Plan = {"mode": "manual", "playbook": None,
                      "reason": "held in a flood of new incidents"}  # fmt: skip
        self.incidents.update(incident["id"], lambda doc: {**doc, "held": FLOOD, "plan": plan})
        note = (
            f"{held} new incident(s) from {signal.source.value} in subscription "
            f"{signal.subscription_id or 'unknown'} were held: more than "
            f"{limits.new_incidents_per_window} in {window / 60:g} min. They get no card of "
            "their own and no automatic fix; `status` lists them."
        )
        flood_id, created = self.incidents.flood(gate, note, held)
        if created:
            self._post(flood_id)
        else:
            self._refresh(flood_id, urgent=False)
        return True

    def _plan(self, incident: Incident, classification: Classification, signal: Signal) -> None:
        entry = classification.entry
        policy = self.policy()
        automation = entry.automation if entry else None
        target = Target(signal.subscription_id, signal.resource_group)
        decision = policy.decide(
            classification.entry_id,
            automation.playbook if automation else None,
            automation.mode if automation else "manual",
            target,
        )
        plan = Plan(mode=decision.mode, playbook=decision.playbook, reason=decision.reason)
        if decision.playbook and policy.paused:
            plan.update({"mode": "manual", "reason": PAUSED})
        incident = self.incidents.update(incident["id"], lambda doc: {**doc, "plan": plan})
        self.audit.record(
            "policy", "plan", incident["id"], plan["mode"],
            playbook=plan["playbook"], reason=plan["reason"],
        )  # fmt: skip
        if plan["mode"] == "approval":
            self._ask_approval(incident, self._undecided(incident))
        elif plan["mode"] == "auto":
            self._start_runs(incident["id"], "policy:auto")

    def _undecided(self, incident: Incident) -> list[str]:
        """Failing VMs that no live or decided approval covers yet (nor a conflict holds)."""
        covered = {
            t["vm"]
            for a in self.approvals.all_for(incident["id"])
            if a["state"] not in {"superseded", "expired", "withdrawn"}
            for t in a.get("targets") or []
        }
        return [
            vm for vm in incident["active_vms"] if vm not in covered and not in_doubt(incident, vm)
        ]

    def _ask_approval(self, incident: Incident, vms: list[str]) -> Approval | None:
        """Open an approval that binds exactly these VMs' resources and the playbook's writes."""
        playbook_name = _plan_of(incident).get("playbook")
        if not vms or not playbook_name:
            return None
        playbook = self.playbooks[playbook_name]
        approval = self.approvals.open(
            incident["id"], playbook_name, self.policy().approval_ttl,
            [_target(incident, vm) for vm in vms], playbook.planned_writes(),
            tuple(playbook.metadata.get("choices") or ()),
            tuple(playbook.checked_before_first_write()),
        )  # fmt: skip
        self.incidents.update(incident["id"], lambda doc: {**doc, "approval_id": approval["id"]})
        return approval

    def _extend(self, incident_id: str) -> None:
        """VMs joined the incident: an automatic fix takes them too; under approval, a pending
        approval is replaced by one with every target, and after a decision the newcomers get
        an approval of their own, so no decision ever covers a VM its card did not show."""
        incident = self.incidents.load(incident_id)
        mode = _plan_of(incident).get("mode")
        if mode == "auto":
            self._start_runs(incident_id, "policy:auto")
            return
        if mode != "approval":
            return
        newcomers = self._undecided(incident)
        if not newcomers:
            return
        current = self.approvals.get(incident.get("approval_id") or "")
        if current and current["state"] == "pending" and self.approvals.supersede(current["id"]):
            kept = [t["vm"] for t in current.get("targets") or []]
            self._ask_approval(incident, [*kept, *[v for v in newcomers if v not in kept]])
            self._note(incident_id, f"{', '.join(newcomers)} joined: the approval now covers them")
        else:
            self._ask_approval(incident, newcomers)
            self._note(incident_id, f"{', '.join(newcomers)} joined after the decision: "
                                    "a new approval covers them")  # fmt: skip
        self._refresh(incident_id)  # at once: the old buttons no longer decide anything

    # -- fixes ----------------------------------------------------------------------------
    def _start_runs(
        self, incident_id: str, decided_by: str, approval: Approval | None = None
    ) -> Started:
        """One run per target not yet fixed, within the blast-radius limits. Under approval
        the targets are the approval's frozen ones, never what the incident lists now."""
        incident = self.incidents.load(incident_id)
        policy = self.policy()
        playbook = _plan_of(incident).get("playbook")
        if policy.paused:
            return Started(refused=[PAUSED])
        if incident["status"] != "open":
            return Started(refused=[f"the incident is {incident['status']}"])
        if not playbook:
            return Started(refused=["no fix is planned for this incident"])
        runs = self.runs.for_incident(incident_id)
        targets: list[FixTarget]
        if approval is not None:
            targets = approval.get("targets") or []
            existing = {r["vm"] for r in runs if r.get("approval_id") == approval["id"]}
        else:
            targets = [_target(incident, vm) for vm in incident["active_vms"]]
            existing = {r["vm"] for r in runs}
        blocked_by = self._blockers(playbook, policy)
        started = Started()

        def refuse(why: str) -> None:
            started.refused.append(why)
            self._note(incident_id, why)

        for target in targets:
            vm = target["vm"]
            if vm in existing:
                continue
            blocked = blocked_by(vm) or ("identity in doubt" if in_doubt(incident, vm) else None)
            if blocked:
                refuse(f"{vm}: {blocked}")
                continue
            if not self.incidents.reserve_fix(incident_id, vm, policy.limits.max_vms_per_fix):
                limit = policy.limits.max_vms_per_fix
                refuse(f"over the limit of {limit} VMs")
                break
            decision = approval["id"] if approval else "auto"
            run = new_run(
                playbook, incident_id, vm, target, decided_by, self.clock(),
                approval_id=approval["id"] if approval else None,
                choice=approval.get("choice") if approval else None,
                run_id=_run_id(incident_id, decision, vm),
            )  # fmt: skip
            if self.runs.add(run):  # False: another worker started this very fix
                started.ids.append(run["id"])
        if decided_by.startswith("policy:") and not policy.in_window(self.clock()):
            if started.ids:
                self._note(incident_id, "automatic fixes wait for the maintenance window")
            return started
        self.start_pending()
        return started

    def _blockers(self, playbook: str, policy: Policy) -> Callable[[str], str | None]:
        """Why a VM may not get a `playbook` run now (None when it may): cool-down per resource
        and circuit breaker per playbook, from one read of the playbook's runs."""
        now, limits = self.clock(), policy.limits
        cooling: set[str] = set()
        failures = 0
        for run in self.runs.all(playbook=playbook):
            age = now - parse_iso(run["updated"])
            done_something = run["state"] in TERMINAL and run["state"] not in NOTHING_DONE
            if done_something and age < limits.cooldown:
                cooling.add(run["vm"])
            # Only failures Azure had confirmed count: a forged signal cannot open the breaker.
            if run["state"] == "failed" and run.get("confirmed") and age < limits.breaker_window:
                failures += 1
        breaker = None
        if failures >= limits.breaker_failures:
            breaker = f"circuit breaker open: {failures} recent failures of {playbook}"
        return lambda vm: "cooling down after a recent fix" if vm in cooling else breaker

    def _active_count(self) -> int:
        return sum(1 for r in self.runs.all() if _holds_slot(r))

    def _run_changed(self, run: Run) -> None:
        if run["state"] in TERMINAL:
            self.start_pending()
            self._settle_approval(run)
            self._after_cleanup(run)
            self._settle_incident(run["incident_id"])
        self._refresh(run["incident_id"])

    def _after_cleanup(self, run: Run) -> None:
        """A lock put back is the cause put back: the VM is watched and the incident says so;
        a lock kept off ends any watch."""
        context = run["context"]
        if run["playbook"] != "cleanup-restore-points" or run["state"] != "succeeded":
            return
        if context.get("locks_restored"):
            self.watch.add(run)
            self._note(run["incident_id"], f"{run['vm']}: the lock is back, so Azure Backup "
                       "cannot clean up; its restore points are watched and a card warns "
                       "before the limit")  # fmt: skip
        elif context.get("locks_left_off"):
            self.watch.drop(run["target"]["resource_id"] or "")

    def _settle_incident(self, incident_id: str) -> None:
        """Close the incident once no VM is failing any more (fixed, healthy again in Azure,
        or Azure does not show the failure), so `status` and new signals see it closed; and
        say why, also when Azure's last recovery closed it (the digest counts by that)."""
        incident = self.incidents.get(incident_id)
        if incident is None or not _to_settle(incident):
            return
        runs = self.runs.for_incident(incident_id)
        found = assess(incident, runs, self.approvals.all_for(incident_id), self.clock())
        if found.state != "resolved":
            return
        now = iso(self.clock())

        def resolved(doc: Incident) -> Incident:
            if not _to_settle(doc):
                return doc
            return {**doc, "status": "resolved", "resolved_at": doc.get("resolved_at") or now,
                    "resolution": {"why": found.why}}  # fmt: skip

        self.incidents.update(incident_id, resolved)
        self._withdraw_approvals(incident_id, "no VM needs the fix any more")

    def _withdraw_approvals(self, incident_id: str, note: str) -> None:
        for approval in self.approvals.all_for(incident_id):
            self.approvals.withdraw(approval["id"], note)

    def start_pending(self) -> None:
        """Start waiting runs while the concurrency limit and maintenance windows allow."""
        policy = self.policy()
        if policy.paused:
            return
        in_window = policy.in_window(self.clock())
        active = self._active_count()
        pending = self.runs.all(state="pending")  # people's decisions first, then the oldest
        pending.sort(key=lambda r: (r["decided_by"].startswith("policy:"), r["created"]))
        blockers: dict[tuple[str, bool], Callable[[str], str | None]] = {}
        for run in pending:
            if active >= policy.limits.max_concurrent_fixes:
                return
            if not in_window and run["decided_by"].startswith("policy:"):
                continue
            # A breaker that opened, or a fix of the VM that ended, since the run was queued.
            key = (run["playbook"], bool(run.get("retry_of")))
            if key not in blockers:
                blockers[key] = self._blockers(run["playbook"], _for(run, policy))
            if blockers[key](run["vm"]) is None:
                self.runner.start(run["id"])
                active += 1

    def _settle_approval(self, run: Run) -> None:
        """Once every run an approval started has ended, the approval says how."""
        approval_id = run.get("approval_id")
        if not approval_id:
            return
        mine = self._runs_of(run["incident_id"], approval_id)
        runs = list(latest_run_per_vm(mine).values())  # a retried VM counts by its retry
        if runs and all(r["state"] in TERMINAL for r in runs):
            self.approvals.set_state(approval_id, _approval_outcome([r["state"] for r in runs]))

    # -- decisions from Teams -------------------------------------------------------------
    def decide(self, approval_id: Any, verb: Any, who: Approver, choice: Any = None) -> Outcome:
        """Record a click; an approval enqueues the fix for its frozen targets (never inline)."""
        outcome = self.approvals.decide(approval_id, verb, who, self.policy(), choice)
        if outcome.accepted and outcome.approval:
            approval = outcome.approval
            if approval["state"] == "approved":
                self._carry_out(approval, who.object_id or "unknown")
            self._refresh(approval["incident_id"])
        return outcome

    def _carry_out(self, approval: Approval, decided_by: str) -> None:
        """Start the runs an accepted approval binds; say so on it when none could start."""
        incident_id = approval["incident_id"]
        if self.incidents.load(incident_id)["status"] != "open":
            self.approvals.set_state(approval["id"], "withdrawn",
                                     "the incident was closed before the fix started")  # fmt: skip
            return
        self.approvals.set_state(approval["id"], "executing")
        started = self._start_runs(incident_id, decided_by, approval)
        if not started.ids and not self._runs_of(incident_id, approval["id"]):
            why = "; ".join(started.refused[:3]) or "nothing could start"
            self.approvals.set_state(approval["id"], "not-started", why)

    def _runs_of(self, incident_id: str, approval_id: str) -> list[Run]:
        """The runs an approval started."""
        runs = self.runs.for_incident(incident_id)
        return [r for r in runs if r.get("approval_id") == approval_id]

    def resume_decisions(self, older_than: timedelta = DECISION_GRACE) -> int:
        """Carry out the approvals a worker accepted and died before starting (the timer runs
        it): run ids are per decision and VM, so a fix never starts twice."""
        now, resumed = self.clock(), 0
        for approval in self.approvals.accepted():
            decided_at = approval.get("decided_at")
            if not decided_at or now - parse_iso(decided_at) < older_than:
                continue  # its worker may still be starting the runs
            if self._runs_of(approval["incident_id"], approval["id"]):
                continue
            who = approval.get("decided_by")
            self._carry_out(approval, (who["id"] if who else None) or "unknown")
            self._refresh(approval["incident_id"])
            resumed += 1
        return resumed

    # -- on-call actions from Teams --------------------------------------------------------
    def act(self, verb: str, data: dict[str, Any], who: Approver) -> Acted:
        """An on-call click (remediation.oncall): checked like a decision, audited, and the
        card refreshed when it took."""
        target = data.get("incidentId") or data.get("approvalId") or data.get("runId")
        refused = self.oncall.refused(who)
        if refused:
            acted = Acted(Outcome(False, refused, None), self.incident_named(data))
        elif verb in INCIDENT_VERBS:
            incident_id = checked_id(data.get("incidentId"), "inc-")
            runs = self.runs.for_incident(incident_id) if incident_id else []
            acted = (
                self.oncall.on_incident(verb, incident_id, who, runs, clean_note(data.get("note")))
                if incident_id
                else Acted(Outcome(False, "This incident does not exist.", None), None)
            )
        elif verb in APPROVAL_VERBS:
            approval_id = checked_id(data.get("approvalId"), "apr-")
            acted = (
                self.oncall.unsnooze(approval_id, who)
                if approval_id
                else Acted(Outcome(False, "This approval does not exist.", None), None)
            )
        elif verb in RUN_VERBS:
            acted = self._on_run(verb, data, who)
        else:
            acted = Acted(Outcome(False, "Unknown action.", None), None)
        self.oncall.audit(who, verb, target, acted)
        if acted.outcome.accepted and acted.incident_id:
            self._refresh(acted.incident_id)
        return acted

    def incident_named(self, data: dict[str, Any]) -> str | None:
        """The existing incident a card's data names by any of its ids (incident, run,
        approval), for the card a refusal or a refresh shows; never trusted for more."""
        return next(iter(self.incidents_named(data)), None)

    def incidents_named(self, data: dict[str, Any]) -> list[str]:
        """Every existing incident a card's data names, by its incident, run and approval ids
        in that order: a click acts only when they are all the clicked card's own."""
        named: list[str] = []
        incident_id = checked_id(data.get("incidentId"), "inc-")
        if incident_id and self.incidents.get(incident_id):
            named.append(incident_id)
        run = self._run_named(data)
        if run:
            named.append(run["incident_id"])
        approval = self.approvals.get(data.get("approvalId"))
        if approval:
            named.append(approval["incident_id"])
        return named

    def _run_named(self, data: dict[str, Any]) -> Run | None:
        run_id = checked_id(data.get("runId"), "run-")
        return self.runs.get(run_id) if run_id else None

    def _on_run(self, verb: str, data: dict[str, Any], who: Approver) -> Acted:
        run = self._run_named(data)
        if run is None:
            return Acted(Outcome(False, "This fix run does not exist.", None), None)
        incident = self.incidents.get(run["incident_id"])
        latest = latest_run_per_vm(self.runs.for_incident(run["incident_id"])).get(run["vm"])
        if latest is None or latest["id"] != run["id"]:
            return Acted(Outcome(False, f"A newer fix of {run['vm']} exists: use the current "
                                 "card.", None), run["incident_id"])  # fmt: skip
        status = incident.get("status") if incident else None
        if status != "open":
            said = f"This incident is already {status}."
            return Acted(Outcome(False, said, None), run["incident_id"])
        if verb == "retry":
            return self._retry(run, who)
        return self._other_fix(run)

    def _retry(self, run: Run, who: Approver) -> Acted:
        """Run the same fix again for the same frozen target, as a person asked. The
        cool-down is for automation and yields to them; a pause or an open breaker does not."""
        policy = self.policy()
        if run["state"] not in TERMINAL or run["state"] == "succeeded":
            said = f"The fix of {run['vm']} is {run['state']}: nothing to retry."
            return Acted(Outcome(False, said, None), run["incident_id"])
        blocked = (PAUSED if policy.paused else None) or self._blockers(
            run["playbook"], _without_cooldown(policy)
        )(run["vm"])
        if blocked:
            return Acted(Outcome(False, f"Not retried: {blocked}.", None), run["incident_id"])
        again = new_run(
            run["playbook"], run["incident_id"], run["vm"], run["target"],
            who.object_id or "unknown", self.clock(),
            approval_id=run.get("approval_id"), choice=run.get("choice"),
        )  # fmt: skip
        again["retry_of"] = run["id"]
        again["retried_by"] = {"id": who.object_id, "name": who.name, "at": again["created"]}
        self.runs.add(again)
        approval_id = run.get("approval_id")
        if approval_id:
            self.approvals.set_state(approval_id, "executing")
        self.start_pending()
        said = f"Retry of the fix for {run['vm']} started by {who.name}."
        return Acted(Outcome(True, said, None), run["incident_id"])

    def _other_fix(self, run: Run) -> Acted:
        """Open (or find) the incident of the other catalogued error a backup of this run hit,
        from the job as Azure shows it now, and link the two."""
        context = run.get("context") or {}
        revealed = context.get("revealed_entry")
        jobs = context.get("jobs_followed") or []
        if not revealed or not jobs:
            said = "This fix hit no other known error."
            return Acted(Outcome(False, said, None), run["incident_id"])
        try:
            job = self._arm_for(run).get_backup_job(run["target"]["vault_id"] or "", jobs[-1])
            signals = signals_from_payload(job)
        except Exception as exc:  # Azure unreadable now: the card says so, nothing changes
            said = f"Azure could not be read to open that incident ({describe(exc)})."
            return Acted(Outcome(False, said, None), run["incident_id"])
        for signal in signals:
            classification = self.classifier.classify(signal)
            if classification.entry_id != revealed:
                continue
            ingested = self.ingest(signal, from_azure=True)
            found = self.incidents.find_open(signal, classification)
            other = ingested.incident_id or (found["id"] if found else None)
            if other:
                link: Related = {"entry_id": revealed, "incident_id": other, "run_id": run["id"]}
                self.incidents.update(run["incident_id"], partial(_linked, link=link))
                title = classification.entry.title.en if classification.entry else revealed
                said = (
                    f'{run["vm"]}: the incident for "{title}" is open; its card is in the channel.'
                )
                return Acted(Outcome(True, said, None), run["incident_id"])
        said = "Azure no longer shows that other error on this VM's backup job."
        return Acted(Outcome(False, said, None), run["incident_id"])

    # -- cards ----------------------------------------------------------------------------
    def view(self, incident_id: str) -> View:
        """Everything a card shows about one incident."""
        incident = self.incidents.load(incident_id)
        entry = (
            self.classifier.catalogue.get(incident["entry_id"]) if incident["entry_id"] else None
        )
        approval = self.approvals.get(incident.get("approval_id") or "")
        policy = self.policy()
        runs = self.runs.for_incident(incident_id)
        return {
            "incident": incident,
            "entry": entry,
            "runs": runs,
            "approval": approval,
            "approvals": self.approvals.all_for(incident_id),
            "writes": {r["id"]: self.audit.for_run(r) for r in _failed(runs)[:SHOWN_FAILED]},
            "entries": {
                e: self.classifier.catalogue.get(e) for e in _other_entries(incident, runs)
            },
            "policy": {"dry_run": policy.dry_run, "paused": policy.paused},
            "now": iso(self.clock()),
        }

    def _post(self, incident_id: str) -> None:
        card = self.notifier.post(self.view(incident_id))
        self.counters.notifications += 1
        if card:
            self.incidents.update(incident_id, lambda doc: {**doc, "card": card})

    def _refresh(self, incident_id: str, urgent: bool = True) -> None:
        """Edit the incident's card. A storm adds VMs by the hundred: those non-urgent edits
        are coalesced to one per CARD_INTERVAL, the rest marked for `flush_cards`."""
        now = self.clock()
        incident = self.incidents.load(incident_id)
        last = incident.get("card_refreshed_at")
        if not urgent and last and now - parse_iso(last) < CARD_INTERVAL:
            if not incident.get("card_dirty"):
                self.incidents.update(incident_id, lambda doc: {**doc, "card_dirty": True})
            return
        self.incidents.update(
            incident_id,
            lambda doc: {**doc, "card_dirty": False, "card_refreshed_at": iso(now)},
        )
        view = self.view(incident_id)
        card = view["incident"].get("card")
        if card is None:
            return
        try:
            self.notifier.update(view, card)
            self.counters.card_updates += 1
        except Exception:  # a card that fails to update must not fail the fix
            log.exception("card update for %s failed", incident_id)

    def flush_cards(self) -> int:
        """Send the coalesced card edits; the poller calls this every cycle."""
        dirty = [i["id"] for i in self.incidents.open_incidents() if i.get("card_dirty")]
        for incident_id in dirty:
            self._refresh(incident_id)
        return len(dirty)

    def _note(self, incident_id: str, note: str) -> None:
        self.incidents.update(incident_id, lambda doc: add_note(doc, note))


def _to_settle(incident: Incident) -> bool:
    """Open, or closed by a recovery that has not said why yet."""
    status = incident["status"]
    return status == "open" or (status == "resolved" and not incident.get("resolution"))


def _linked(doc: Incident, link: Related) -> Incident:
    """`doc` linked to the incident of another error one of its runs revealed."""
    related = [r for r in doc.get("related") or [] if r["incident_id"] != link["incident_id"]]
    return {**doc, "related": [*related, link][-MAX_RELATED:]}


def _without_cooldown(policy: Policy) -> Policy:
    return replace(policy, limits=replace(policy.limits, cooldown=timedelta(0)))


def _for(run: Run, policy: Policy) -> Policy:
    """The limits a run meets: a person's retry yields to no cool-down."""
    return _without_cooldown(policy) if run.get("retry_of") else policy


def _failed(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r["state"] == "failed"]


def _other_entries(incident: Incident, runs: list[Run]) -> set[str]:
    """Catalogue entries a card names besides its own: errors its runs revealed."""
    found = {(r.get("context") or {}).get("revealed_entry") for r in runs}
    found |= {r["entry_id"] for r in incident.get("related") or []}
    return {e for e in found if e}


def _session(signal: Signal) -> str:
    """One resource's signals share a session, so they are processed in order."""
    return (signal.resource_id or signal.vm or signal.dedup_key).lower()


def _without_extras(record: dict[str, Any], key: str) -> dict[str, Any]:
    """The claim document without the signal's extras (huge alert causes and dimensions that
    no stage reads), for a signal over the store's document limit."""
    log.warning("signal %s recorded without its extras: over the document limit", key)
    return {**record, "signal": {**record["signal"], "extra": {"extra_dropped": True}}}


def _unsent(message: IngestMessage, exc: Exception) -> QueueUnavailable:
    log.warning("ingest message %s not sent: %s", message.message_id, exc)
    reason = f"signal recorded but not queued ({type(exc).__name__}); try again"
    return QueueUnavailable(reason)


def _ingest_message(record: Record) -> IngestMessage:
    return IngestMessage(record.key, record.data["attempt"], record.data["session"])


def _run_id(incident_id: str, decision: str, vm: str) -> str:
    """One run per VM per decision, whichever worker gets there first."""
    return (
        "run-" + hashlib.sha256(f"{incident_id}|{decision}|{vm.lower()}".encode()).hexdigest()[:16]
    )


def _count_one(doc: dict[str, Any] | None) -> dict[str, Any]:
    return {"count": (doc or {}).get("count", 0) + 1}


def _holds_slot(run: Run) -> bool:
    """A run counts against the concurrency limit while it works, or waits once Azure has
    confirmed its failure; one waiting on an unconfirmed signal never holds a slot."""
    return run["state"] in {"queued", "running"} or (
        run["state"] in ACTIVE and bool(run.get("confirmed"))
    )


def _approval_outcome(states: list[str]) -> str:
    if "failed" in states:
        return "failed"
    if "succeeded" in states:
        return "succeeded"
    return "dry-run" if "dry-run" in states else "not-confirmed"


def _plan_of(incident: Incident) -> Plan | dict[str, None]:
    """The incident's plan; none yet (being created) reads as no mode and no playbook."""
    return incident.get("plan") or {}


def _target_of(signal: Signal) -> FixTarget:
    """The resource a signal names, as a target to read Azure about (nothing is written)."""
    return {"vm": signal.vm or "", "entry_id": None, "resource_id": signal.resource_id,
            "vault_id": signal.vault_id, "subscription_id": signal.subscription_id,
            "evidence": None}  # fmt: skip


def _target(incident: Incident, vm: str) -> FixTarget:
    return {
        "vm": vm,
        "entry_id": incident.get("entry_id"),
        "resource_id": incident["resources"].get(vm),
        "vault_id": incident.get("vault_id"),
        "subscription_id": incident.get("subscription_id"),
        "evidence": next((e for e in incident["evidence"] if e["vm"] == vm), None),
    }
