"""Approvals: a server-side state machine, decided only by policy approvers.

pending -> approved | rejected | expired | snoozed | superseded | withdrawn;
snoozed -> pending (un-snoozed by an approver);
approved -> executing -> succeeded | failed | dry-run | not-confirmed, or not-started.
An approval is withdrawn when its incident no longer needs it (resolved, by hand or by Azure,
or escalated to manual handling); `note` says why.

An approval binds a frozen plan: the exact targets (resource ids) and the writes the card
showed when it was opened. A decision applies to that snapshot only; when the incident's
targets change while it waits, it is superseded by a new approval. Where the plan offers a
choice (keep the lock off), the approver's choice is recorded with the decision.
The card carries only the opaque approval id; everything else is looked up here, and every
attempt, accepted or refused, is audited.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, Protocol

from remediation.audit import AuditLog
from remediation.azure.graph import InvalidObjectId, MembershipUnavailable
from remediation.clock import Clock, iso, parse_iso, utcnow
from remediation.policy import Policy
from remediation.records import Approval, FixTarget
from remediation.store import Documents, Store

APPROVALS = "approvals"
PARTITION = "approval"
VERBS = {"approve": "approved", "reject": "rejected", "snooze": "snoozed"}
SNOOZE = timedelta(hours=24)
MAX_ID_CHARS = 64  # "apr-" and 16 random characters; anything longer is not ours
EXPIRED = "This approval has expired."
SETTLED = frozenset({"succeeded", "failed", "dry-run", "not-confirmed", "not-started"})
# Decided and not yet ended: its fix is about to start or running.
UNDER_WAY = frozenset({"approved", "executing"})


@dataclass(frozen=True, slots=True)
class Approver:
    """Who clicked, as the bot saw it (already authenticated by the Bot Framework token)."""

    object_id: str | None
    name: str
    tenant_id: str | None
    groups: frozenset[str] = frozenset()
    membership_error: str | None = None  # why the approver group could not be checked
    card: str | None = None  # the card message clicked (its thread's id), for the audit


class Membership(Protocol):
    def member_of(self, object_id: str, group_ids: Iterable[str]) -> frozenset[str]: ...


def with_group_membership(
    who: Approver, policy: Policy, membership: Callable[[], Membership]
) -> Approver:
    """`who` with the policy's approver group in `groups` when the directory says so.

    Asked only when it can change the answer: a group is configured and `who` is not a listed
    approver. `membership` builds the client on first use. A directory that cannot answer
    leaves `groups` empty and says why, so the refusal can tell the user to try again.
    """
    group = policy.approver_group
    if not group or not who.object_id or policy.is_approver(who.object_id):
        return who
    try:
        groups = membership().member_of(who.object_id, [group])
    except InvalidObjectId:
        return who  # not a directory user: an ordinary refusal
    except MembershipUnavailable as exc:
        return replace(who, membership_error=str(exc))
    return replace(who, groups=frozenset(g.lower() for g in groups))


Refused = Literal["foreign_tenant", "membership_unknown", "not_approver"]


def refused_because(who: Approver, policy: Policy) -> Refused | None:
    """Why `who` may not decide or flip switches, or None when they may; callers word it."""
    if policy.tenant_id and (who.tenant_id or "").lower() != policy.tenant_id.lower():
        return "foreign_tenant"
    if policy.is_approver(who.object_id, who.groups):
        return None
    return "membership_unknown" if who.membership_error else "not_approver"


def refusal(who: Approver, policy: Policy) -> str | None:
    """The refusal of a card decision, in words, or None when `who` may decide."""
    because = refused_because(who, policy)
    if because == "foreign_tenant":
        return "Decisions are only accepted from the home tenant."
    if because == "membership_unknown":
        return (
            f"Could not check your membership of the approver group: {who.membership_error}; "
            "try again."
        )
    return "You are not an approver for remediation fixes." if because else None


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: bool
    message: str
    approval: Approval | None


def audit_click(
    audit: AuditLog, who: Approver, action: str, target: object, outcome: Outcome, **details: Any
) -> None:
    """One audit line per click on a card, accepted or refused: who, on which card, why."""
    if who.card:
        details["card"] = who.card
    audit.record(
        f"user:{who.object_id or 'unknown'}", action, str(target)[:80],
        "accepted" if outcome.accepted else "refused",
        name=who.name[:120], tenant=who.tenant_id, reason=outcome.message, **details,
    )  # fmt: skip


class Approvals:
    def __init__(self, store: Store, audit: AuditLog, clock: Clock = utcnow) -> None:
        self._docs = Documents[Approval](store, APPROVALS, PARTITION)
        self._audit = audit
        self._clock = clock

    def open(
        self,
        incident_id: str,
        playbook: str,
        ttl: timedelta,
        targets: list[FixTarget],
        writes: list[str],
        choices: tuple[str, ...] = (),
        checks: tuple[str, ...] = (),
    ) -> Approval:
        """A pending approval for exactly `targets` and `writes` (the frozen plan); `checks` are
        the preconditions the fix reads from Azure before its first write, shown beside it."""
        now = self._clock()
        approval: Approval = {
            "id": "apr-" + secrets.token_urlsafe(12),
            "incident_id": incident_id,
            "playbook": playbook,
            "targets": targets,
            "writes": writes,
            "checks": list(checks),
            "choices": list(choices),
            "choice": None,
            "state": "pending",
            "created": iso(now),
            "expires": iso(now + ttl),
            "decided_by": None,
            "decided_at": None,
            "snoozed_until": None,
        }
        self._docs.insert(approval["id"], approval)
        return approval

    def get(self, approval_id: Any) -> Approval | None:
        if (
            not isinstance(approval_id, str)
            or not approval_id.startswith("apr-")
            or len(approval_id) > MAX_ID_CHARS
        ):
            return None
        return self._docs.get(approval_id)

    def pending(self) -> list[Approval]:
        now = self._clock()
        return [a for a in self._docs.all(state="pending") if parse_iso(a["expires"]) > now]

    def accepted(self) -> list[Approval]:
        """Approvals accepted whose runs may not have started (approved, or executing)."""
        return [a for state in sorted(UNDER_WAY) for a in self._docs.all(state=state)]

    def all_for(self, incident_id: str) -> list[Approval]:
        return self._docs.all(incident_id=incident_id)

    def decide(
        self, approval_id: Any, verb: Any, who: Approver, policy: Policy, choice: Any = None
    ) -> Outcome:
        """Apply a click; refuse anything that is not a fresh decision by an approver."""
        outcome = self._decide(approval_id, verb, who, policy, choice)
        audit_click(self._audit, who, f"approval {verb}", approval_id, outcome)
        return outcome

    def _decide(
        self, approval_id: Any, verb: Any, who: Approver, policy: Policy, choice: Any
    ) -> Outcome:
        if verb not in VERBS:
            return Outcome(False, "Unknown action.", None)
        approval = self.get(approval_id)
        if approval is None:
            return Outcome(False, "This approval does not exist.", None)
        refused = refusal(who, policy)
        if refused:
            return Outcome(False, refused, approval)
        offered = approval.get("choices") or []
        if choice is not None and (verb != "approve" or choice not in offered):
            return Outcome(False, "That option is not part of this approval.", approval)
        if verb == "approve" and offered:
            choice = choice or offered[0]
        now = self._clock()
        target = VERBS[verb]
        token = secrets.token_hex(8)  # tells this click's transition from a concurrent one

        def transition(doc: Approval) -> Approval:
            if doc["state"] != "pending" or parse_iso(doc["expires"]) <= now:
                return doc
            snoozed = iso(now + SNOOZE) if target == "snoozed" else None
            return {
                **doc,
                "state": target,
                "decided_by": {"id": who.object_id, "name": who.name},
                "decided_at": iso(now),
                "snoozed_until": snoozed,
                "choice": choice if target == "approved" else None,
                "decision": token,
            }

        after = self._docs.update(approval["id"], transition)
        if after.get("decision") == token:
            return Outcome(True, f"{target.capitalize()} by {who.name}.", after)
        if after["state"] == "pending":
            self.expire(after["id"])
            return Outcome(False, EXPIRED, self.get(after["id"]))
        if after["state"] == "expired":  # a later click on it: the same words, not "by someone"
            return Outcome(False, EXPIRED, after)
        if after["state"] == "withdrawn":
            return Outcome(False, f"This approval was withdrawn: {after.get('note')}.", after)
        if after["state"] == "superseded":
            return Outcome(False, "This approval was replaced by a newer one: the incident's "
                           "VMs changed. Decide on the current card.", after)  # fmt: skip
        decider = after.get("decided_by")
        by = decider.get("name", "someone") if decider else "someone"
        return Outcome(False, f"Already {after['state']} by {by}.", after)

    def supersede(self, approval_id: str) -> bool:
        """Retire a pending approval whose targets changed; True when it was still pending."""

        def retire(doc: Approval) -> Approval:
            return {**doc, "state": "superseded"} if doc["state"] == "pending" else doc

        return self._docs.update(approval_id, retire)["state"] == "superseded"

    def withdraw(self, approval_id: str, note: str) -> None:
        """Retire a pending or snoozed approval its incident no longer needs (a decided one
        stays as decided)."""

        def retire(doc: Approval) -> Approval:
            if doc["state"] not in {"pending", "snoozed"}:
                return doc
            return {**doc, "state": "withdrawn", "note": note}

        self._docs.update(approval_id, retire)

    def unsnooze(self, approval_id: str, ttl: timedelta) -> bool:
        """A snoozed approval waits for a decision again, on the same frozen plan."""
        now = self._clock()
        token = secrets.token_hex(8)  # tells this transition from a concurrent one

        def wake(doc: Approval) -> Approval:
            if doc["state"] != "snoozed":
                return doc
            return {**doc, "state": "pending", "snoozed_until": None, "decided_by": None,
                    "decided_at": None, "expires": iso(now + ttl), "decision": token}  # fmt: skip

        return self._docs.update(approval_id, wake).get("decision") == token

    def expire(self, approval_id: str) -> None:
        now = self._clock()

        def lapse(doc: Approval) -> Approval:
            if doc["state"] == "pending" and parse_iso(doc["expires"]) <= now:
                return {**doc, "state": "expired"}
            return doc

        self._docs.update(approval_id, lapse)

    def set_state(self, approval_id: str, state: str, note: str | None = None) -> None:
        """executing, then how the fix ended, as it progresses after approval."""

        def moved(doc: Approval) -> Approval:
            return {**doc, "state": state, "note": note} if note else {**doc, "state": state}

        self._docs.update(approval_id, moved)
