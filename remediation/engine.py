"""The pipeline: signal -> dedup -> classify -> incident -> policy -> fix or approval -> card.

One direction, no back and forth: each stage hands a value to the next, and every state
change of an incident, a run or an approval ends in one card post or update.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from remediation.approvals import Approvals, Approver, Outcome
from remediation.audit import AuditLog
from remediation.classify import Classification, Classifier
from remediation.clock import Clock, iso, parse_iso, utcnow
from remediation.incidents import Incidents
from remediation.playbooks.base import Playbook
from remediation.policy import Policy, Target
from remediation.queue.base import Queue
from remediation.runs import ACTIVE, TERMINAL, Runner, Runs, new_run
from remediation.signals.model import Signal
from remediation.store import Store

log = logging.getLogger(__name__)

SEEN = "signals"
CARD_INTERVAL = timedelta(seconds=10)
SWITCHES = "switches"


class Notifier(Protocol):
    """Where cards go: posts a new thread per incident, then updates that same message."""

    def post(self, view: dict[str, Any]) -> dict[str, Any] | None: ...

    def update(self, view: dict[str, Any], card: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class Ingested:
    duplicate: bool
    classification: Classification | None = None
    incident_id: str | None = None
    created: bool = False


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
        arm_for: Callable[[dict[str, Any]], Any],
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
        self.counters = Counters()
        self.runner = Runner(
            store, queue, playbooks, arm_for, self.audit,
            dry_run=lambda: self.policy().dry_run, clock=clock, on_change=self._run_changed,
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

    def set_switch(self, name: str, value: bool, actor: str) -> None:
        """Kill switch and dry-run toggled from chat; audited."""
        self.store.update(SWITCHES, "switch", "automation", lambda d: {**(d or {}), name: value})
        self.audit.record(actor, f"set {name}", "automation", "ok", value=value)

    # -- ingestion ------------------------------------------------------------------------
    def ingest(self, signal: Signal) -> Ingested:
        """Record, classify and correlate one signal; idempotent per dedup key."""
        self.counters.signals += 1
        key = signal.dedup_key
        if not self.store.claim(SEEN, key[:2], key, {"seen": iso(self.clock())}):
            self.counters.duplicates += 1
            return Ingested(duplicate=True)
        classification = self.classifier.classify(signal)
        correlation = self.incidents.correlate(signal, classification)
        if correlation is None:
            return Ingested(False, classification)
        incident = correlation.incident
        if correlation.created:
            self._plan(incident, classification, signal)
            self._post(incident["id"])
        else:
            if correlation.changed and not signal.resolved:
                self._extend(incident, signal)
            if correlation.changed:
                self._refresh(incident["id"], urgent=signal.resolved)
        return Ingested(False, classification, incident["id"], correlation.created)

    def _plan(self, incident: dict[str, Any], classification: Classification, signal) -> None:
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
        plan = {"mode": decision.mode, "playbook": decision.playbook, "reason": decision.reason}
        if decision.playbook and policy.paused:
            plan.update(mode="manual", reason="automation is paused")
        approval_id = None
        if plan["mode"] == "approval":
            approval_id = self.approvals.open(
                incident["id"], decision.playbook, policy.approval_ttl
            )["id"]
        self.incidents.update(
            incident["id"], lambda doc: {**doc, "plan": plan, "approval_id": approval_id}
        )
        self.audit.record(
            "policy", "plan", incident["id"], plan["mode"],
            playbook=plan["playbook"], reason=plan["reason"],
        )  # fmt: skip
        if plan["mode"] == "auto":
            self._start_runs(incident["id"], "policy:auto")

    def _extend(self, incident: dict[str, Any], signal: Signal) -> None:
        """A new VM joined an incident whose fix already runs automatically: fix it too."""
        plan = incident.get("plan") or {}
        if plan.get("mode") == "auto":
            self._start_runs(incident["id"], "policy:auto")
        elif plan.get("mode") == "approval":
            approval = self.approvals.get(incident.get("approval_id") or "")
            if approval and approval["state"] in {"approved", "executing"}:
                self._start_runs(incident["id"], approval["decided_by"]["id"])

    # -- fixes ----------------------------------------------------------------------------
    def _start_runs(self, incident_id: str, decided_by: str) -> list[str]:
        """One run per affected VM not yet fixed, within the blast-radius limits."""
        incident = self.incidents.get(incident_id)
        policy = self.policy()
        playbook = (incident.get("plan") or {}).get("playbook")
        if not playbook or policy.paused:
            return []
        existing = {r["vm"] for r in self.runs.for_incident(incident_id)}
        limit = policy.limits.max_vms_per_fix - len(existing)
        started = []
        for vm in incident["active_vms"]:
            if vm in existing:
                continue
            if limit <= 0:
                self._note(incident_id, f"over the limit of {policy.limits.max_vms_per_fix} VMs")
                break
            blocked = self._blocked(playbook, vm, policy)
            if blocked:
                self._note(incident_id, f"{vm}: {blocked}")
                continue
            run = new_run(
                playbook, incident_id, vm, _target(incident, vm), decided_by, self.clock()
            )
            self.runs.add(run)
            started.append(run["id"])
            limit -= 1
        if decided_by.startswith("policy:") and not policy.in_window(self.clock()):
            if started:
                self._note(incident_id, "automatic fixes wait for the maintenance window")
            return started
        self.start_pending()
        return started

    def _blocked(self, playbook: str, vm: str, policy: Policy) -> str | None:
        """Cool-down per resource and circuit breaker per playbook."""
        now = self.clock()
        for run in self.runs.all(playbook=playbook):
            age = now - parse_iso(run["updated"])
            if run["vm"] == vm and run["state"] in TERMINAL and age < policy.limits.cooldown:
                return "cooling down after a recent fix"
        recent_failures = [
            r
            for r in self.runs.all(playbook=playbook, state="failed")
            if now - parse_iso(r["updated"]) < policy.limits.breaker_window
        ]
        if len(recent_failures) >= policy.limits.breaker_failures:
            return f"circuit breaker open: {len(recent_failures)} recent failures of {playbook}"
        return None

    def _active_count(self) -> int:
        return sum(1 for r in self.runs.all() if r["state"] in ACTIVE)

    def _run_changed(self, run: dict[str, Any]) -> None:
        if run["state"] in TERMINAL:
            self.start_pending()
            self._settle_approval(run["incident_id"])
        self._refresh(run["incident_id"])

    def start_pending(self) -> None:
        """Start waiting runs while the concurrency limit and maintenance windows allow."""
        policy = self.policy()
        if policy.paused:
            return
        in_window = policy.in_window(self.clock())
        for run in self.runs.all(state="pending"):
            if self._active_count() >= policy.limits.max_concurrent_fixes:
                return
            if in_window or not run["decided_by"].startswith("policy:"):
                self.runner.start(run["id"])

    def _settle_approval(self, incident_id: str) -> None:
        incident = self.incidents.get(incident_id)
        approval_id = incident.get("approval_id")
        if not approval_id:
            return
        runs = self.runs.for_incident(incident_id)
        if runs and all(r["state"] in TERMINAL for r in runs):
            failed = any(r["state"] == "failed" for r in runs)
            self.approvals.set_state(approval_id, "failed" if failed else "succeeded")

    # -- decisions from Teams -------------------------------------------------------------
    def decide(self, approval_id: Any, verb: Any, who: Approver) -> Outcome:
        """Record a click; an approval enqueues the fix (never runs it inline)."""
        outcome = self.approvals.decide(approval_id, verb, who, self.policy())
        if outcome.accepted and outcome.approval:
            incident_id = outcome.approval["incident_id"]
            if outcome.approval["state"] == "approved":
                self.approvals.set_state(outcome.approval["id"], "executing")
                self._start_runs(incident_id, who.object_id or "unknown")
            self._refresh(incident_id)
        return outcome

    # -- cards ----------------------------------------------------------------------------
    def view(self, incident_id: str) -> dict[str, Any]:
        """Everything a card shows about one incident."""
        incident = self.incidents.get(incident_id)
        entry = (
            self.classifier.catalogue.get(incident["entry_id"]) if incident["entry_id"] else None
        )
        approval = self.approvals.get(incident.get("approval_id") or "")
        policy = self.policy()
        return {
            "incident": incident,
            "entry": entry,
            "runs": self.runs.for_incident(incident_id),
            "approval": approval,
            "policy": {"dry_run": policy.dry_run, "paused": policy.paused},
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
        incident = self.incidents.get(incident_id)
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
        self.incidents.update(
            incident_id,
            lambda doc: {**doc, "notes": sorted({*doc.get("notes", []), note})[:20]},
        )


def _target(incident: dict[str, Any], vm: str) -> dict[str, Any]:
    return {
        "vm": vm,
        "entry_id": incident.get("entry_id"),
        "resource_id": incident["resources"].get(vm),
        "vault_id": incident.get("vault_id"),
        "subscription_id": incident.get("subscription_id"),
        "evidence": next((e for e in incident["evidence"] if e["vm"] == vm), None),
    }
