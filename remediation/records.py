"""The shapes of the stored documents: incidents, fix runs, approvals and what they hold.

They are JSON objects in the store, which checks only that they are JSON; these TypedDicts
name the fields the code reads and writes, so that mypy checks every read and every update
against one definition. A field that only some documents have (added by a later stage, or
absent from documents an older version stored) is NotRequired and read with `.get()`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

# A card reference, as the notifier returned it when it posted the card (a Teams thread and
# activity, or a recorder's message id); handed back to it unread to edit that card.
CardRef = dict[str, Any]


class Evidence(TypedDict):
    """One failing VM's signal as the incident keeps it, for the card and its fix run."""

    vm: str
    codes: list[str]
    message: str
    time: str | None
    source: str
    job_id: str | None
    resource_id: str | None
    investigation_link: str | None


class FixTarget(TypedDict):
    """One VM a fix acts on, frozen when the approval opened or the run was created."""

    vm: str
    entry_id: str | None
    resource_id: str | None
    vault_id: str | None
    subscription_id: str | None
    evidence: Evidence | None


class Plan(TypedDict):
    """What policy decided for an incident: auto, approval or manual, and why."""

    mode: str
    playbook: str | None
    reason: str


class Person(TypedDict):
    """Who decided or acted on a card, as the bot authenticated them, and when."""

    id: str | None
    name: str
    at: NotRequired[str]


class Resolution(TypedDict):
    """Why an incident was resolved: by the runs' outcomes, or by hand with a note."""

    why: str
    by: NotRequired[Person]
    note: NotRequired[str]


class Related(TypedDict):
    """The incident of another catalogued error that one of this incident's runs revealed."""

    entry_id: str
    incident_id: str
    run_id: str


class Incident(TypedDict):
    """Signals of one root cause and scope (remediation.incidents)."""

    id: str
    key: str
    entry_id: str | None
    root_cause: str | None
    service: str | None
    severity: str
    scope: str | None
    status: str  # open | resolved | expired
    language: str
    vms: list[str]
    active_vms: list[str]
    resources: dict[str, str]  # VM -> its resource id
    counted_vms: dict[str, int]  # fingerprint -> 1 while failing (VMs beyond those listed)
    vm_count: int
    active_count: int
    signal_count: int
    first_seen: str
    last_seen: str
    failed_at: dict[str, str]  # VM -> when Azure last saw it fail
    fired_at: str | None
    evidence: list[Evidence]
    vault: str | None
    vault_id: str | None
    subscription_id: str | None
    card: CardRef | None
    # Added as the incident moves on.
    plan: NotRequired[Plan]
    approval_id: NotRequired[str]
    notes: NotRequired[list[str]]
    identity_conflicts: NotRequired[dict[str, list[str]]]  # VM -> resource ids signals named
    fix_vms: NotRequired[list[str]]
    held: NotRequired[str]
    held_count: NotRequired[int]
    acknowledged: NotRequired[Person]
    owner: NotRequired[Person]
    escalated: NotRequired[Person]
    resolved_at: NotRequired[str]
    resolution: NotRequired[Resolution]
    related: NotRequired[list[Related]]
    card_dirty: NotRequired[bool]
    card_refreshed_at: NotRequired[str]


class JournalEntry(TypedDict):
    step: str
    phase: str  # start, then how the step ended: next | wait | failed | unconfirmed
    time: str
    note: NotRequired[str]


class Run(TypedDict):
    """One playbook run for one VM (remediation.runs)."""

    id: str
    incident_id: str
    approval_id: str | None
    choice: str | None
    playbook: str
    vm: str
    target: FixTarget
    state: str  # pending | queued | running | waiting, then one of runs.TERMINAL
    epoch: int
    confirmed: bool
    wrote: bool
    outcome: str | None
    step: int
    seq: int
    failures: int
    failing: bool
    failure: str | None
    journal: list[JournalEntry]
    context: dict[str, Any]  # the playbook's scratch state: ids found, locks recorded, jobs
    decided_by: str
    created: str
    updated: str
    lease_until: str | None
    retry_of: NotRequired[str]
    retried_by: NotRequired[Person]  # who asked for this retry, and when


class Caller(TypedDict):
    """What an ARM factory reads of a run: the subscription of its target, who acts, and the
    run its writes are audited under. Every Run is one."""

    id: str
    target: FixTarget
    decided_by: str


class Approval(TypedDict):
    """A frozen plan waiting for, or bound by, an approver's decision (remediation.approvals)."""

    id: str
    incident_id: str
    playbook: str
    targets: list[FixTarget]
    writes: list[str]
    choices: list[str]
    checks: NotRequired[list[str]]  # precondition ids (remediation.playbooks.preconditions)
    choice: str | None
    state: str
    created: str
    expires: str
    decided_by: Person | None
    decided_at: str | None
    snoozed_until: str | None
    decision: NotRequired[str]  # the token of the transition that decided it
    note: NotRequired[str]
