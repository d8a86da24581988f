"""On-call actions on an incident card, beside the approvals: acknowledge, assign to me,
resolve by hand with a note, escalate to manual handling, un-snooze.

Like a decision, an action carries only ids (the incident's, the approval's); who acts comes
from the authenticated activity and must pass the same check as an approver
(`approvals.refused_because`); every attempt, accepted or refused, is audited. The fixes that
an action starts (retry, the other fix) go through the engine, which owns the runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from remediation.approvals import UNDER_WAY, Approvals, Approver, Outcome, audit_click, refusal
from remediation.audit import AuditLog
from remediation.clock import Clock, iso, utcnow
from remediation.incidents import Incidents, add_note
from remediation.outcomes import RUNNING
from remediation.policy import Policy
from remediation.records import Incident, Person, Plan, Resolution, Run

INCIDENT_VERBS = frozenset({"acknowledge", "assign", "resolve", "escalate"})
APPROVAL_VERBS = frozenset({"unsnooze"})
RUN_VERBS = frozenset({"retry", "other-fix"})
VERBS = INCIDENT_VERBS | APPROVAL_VERBS | RUN_VERBS
MAX_ID_CHARS = 64
NOTE_CHARS = 500
MIN_NOTE_CHARS = 3


@dataclass(frozen=True, slots=True)
class Acted:
    """An accepted or refused action, and the incident whose card shows it."""

    outcome: Outcome
    incident_id: str | None


def checked_id(value: object, prefix: str) -> str | None:
    """`value` when it has the shape of one of our ids, else None (never looked up)."""
    if isinstance(value, str) and value.startswith(prefix) and len(value) <= MAX_ID_CHARS:
        return value
    return None


def clean_note(value: object) -> str:
    """A person's note as one bounded line of printable text."""
    text = value if isinstance(value, str) else ""
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())[:NOTE_CHARS]


class OnCall:
    def __init__(
        self,
        incidents: Incidents,
        approvals: Approvals,
        audit: AuditLog,
        policy: Callable[[], Policy],
        clock: Clock = utcnow,
    ) -> None:
        self._incidents = incidents
        self._approvals = approvals
        self._audit = audit
        self._policy = policy
        self._clock = clock

    def refused(self, who: Approver) -> str | None:
        """Why `who` may not act on cards, in words; None when they may."""
        return refusal(who, self._policy())

    def audit(self, who: Approver, verb: str, target: object, acted: Acted) -> Acted:
        audit_click(self._audit, who, f"on-call {verb}", target, acted.outcome)
        return acted

    # -- incident actions -------------------------------------------------------------------
    def on_incident(
        self, verb: str, incident_id: str, who: Approver, runs: list[Run], note: str
    ) -> Acted:
        """Apply `verb` to the incident; `runs` are its runs (resolving waits for none)."""
        incident = self._incidents.get(incident_id)
        if incident is None:
            return Acted(Outcome(False, "This incident does not exist.", None), None)
        if incident["status"] != "open":
            said = f"This incident is already {incident['status']}."
            return Acted(Outcome(False, said, None), incident_id)
        me: Person = {"id": who.object_id, "name": who.name, "at": iso(self._clock())}
        if verb == "acknowledge":
            return self._acknowledge(incident, me)
        if verb == "assign":
            return self._assign(incident, me)
        if verb == "resolve":
            return self._resolve(incident, me, runs, note)
        return self._escalate(incident, me)

    def _acknowledge(self, incident: Incident, me: Person) -> Acted:
        known = incident.get("acknowledged")
        if known:
            said = f"Already acknowledged by {known['name']}."
            return Acted(Outcome(False, said, None), incident["id"])
        self._incidents.update(
            incident["id"],
            lambda doc: {**doc, "acknowledged": doc.get("acknowledged") or me,
                         "owner": doc.get("owner") or me},
        )  # fmt: skip
        return Acted(Outcome(True, f"Acknowledged by {me['name']}.", None), incident["id"])

    def _assign(self, incident: Incident, me: Person) -> Acted:
        before = incident.get("owner")
        if (before["id"] if before else None) == me["id"]:
            return Acted(Outcome(False, "You already own this incident.", None), incident["id"])
        self._incidents.update(
            incident["id"],
            lambda doc: {**doc, "owner": me, "acknowledged": doc.get("acknowledged") or me},
        )
        said = f"{me['name']} owns this incident now"
        said += f" (was {before['name']})." if before else "."
        return Acted(Outcome(True, said, None), incident["id"])

    def _resolve(self, incident: Incident, me: Person, runs: list[Run], note: str) -> Acted:
        if len(note) < MIN_NOTE_CHARS:
            said = "Say in the note what was done, then resolve."
            return Acted(Outcome(False, said, None), incident["id"])
        approvals = self._approvals.all_for(incident["id"])
        if any(r["state"] in RUNNING for r in runs) or any(
            a["state"] in UNDER_WAY for a in approvals
        ):  # an approved fix not started yet is under way too: the card says FIXING
            said = "A fix is still running: wait for it to end, or escalate."
            return Acted(Outcome(False, said, None), incident["id"])
        resolution: Resolution = {"why": "by-hand", "by": me, "note": note}

        def resolved(doc: Incident) -> Incident:
            if doc["status"] != "open":
                return doc
            return {**doc, "status": "resolved", "resolved_at": me["at"], "resolution": resolution}

        after = self._incidents.update(incident["id"], resolved)
        if after.get("resolution") != resolution:
            return Acted(Outcome(False, "This incident was closed meanwhile.", None), after["id"])
        self._withdraw_all(incident["id"], f"resolved by hand by {me['name']}")
        return Acted(Outcome(True, f"Resolved by {me['name']}: {note}", None), incident["id"])

    def _escalate(self, incident: Incident, me: Person) -> Acted:
        if incident.get("escalated"):
            said = f"Already escalated by {incident['escalated']['name']}."
            return Acted(Outcome(False, said, None), incident["id"])
        reason = f"escalated to manual handling by {me['name']}"

        def escalated(doc: Incident) -> Incident:
            before = doc.get("plan")
            plan: Plan = {"mode": "manual", "playbook": None, "reason": reason}
            if before:
                plan = {**before, "mode": "manual", "reason": reason}
            return add_note({**doc, "escalated": me, "plan": plan}, reason)

        self._incidents.update(incident["id"], escalated)
        self._withdraw_all(incident["id"], reason)
        return Acted(Outcome(True, f"Escalated by {me['name']}: no fix runs automatically.",
                             None), incident["id"])  # fmt: skip

    def _withdraw_all(self, incident_id: str, note: str) -> None:
        for approval in self._approvals.all_for(incident_id):
            self._approvals.withdraw(approval["id"], note)

    # -- approval actions -------------------------------------------------------------------
    def unsnooze(self, approval_id: str, who: Approver) -> Acted:
        approval = self._approvals.get(approval_id)
        if approval is None:
            return Acted(Outcome(False, "This approval does not exist.", None), None)
        if not self._approvals.unsnooze(approval_id, self._policy().approval_ttl):
            said = f"This approval is {approval['state']}, not snoozed."
            return Acted(Outcome(False, said, approval), approval["incident_id"])
        said = f"Un-snoozed by {who.name}: waiting for a decision again."
        return Acted(Outcome(True, said, self._approvals.get(approval_id)),
                     approval["incident_id"])  # fmt: skip
