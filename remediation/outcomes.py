"""The incident's state, derived from what happened to each of its VMs.

The card, `status` and the digest all read this one state machine, so none of them can say
more than the runs proved:

    open -> fixing -> resolved | failed | needs-attention | snoozed

Each listed VM has one outcome, read from its latest run (when that run is newer than the
VM's last failure), else from the approval that covers it, else from the plan. The incident
is resolved when no VM is still failing (fixed, recovered, or Azure does not show the failure)
or when a person resolved it; fixing while any fix runs; failed when a fix failed; needs
attention when a person must act and no automation will; snoozed when every failing VM waits
on a snoozed approval; open otherwise (waiting for a decision or for its automatic fix).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from remediation.clock import parse_iso
from remediation.records import Approval, Incident, Run

State = Literal["open", "fixing", "resolved", "failed", "needs-attention", "snoozed"]

RUNNING = frozenset({"pending", "queued", "running", "waiting"})
# Outcomes of a VM that is no longer failing.
SETTLED = frozenset({"fixed", "recovered", "not-confirmed"})
# Outcomes that need a person and that no automation will change.
ATTENTION = frozenset(
    {"in-doubt", "manual", "rejected", "expired", "not-started", "dry-run", "counted"}
)
_APPROVAL_OUTCOME = {
    "pending": "awaiting-approval",
    "approved": "fixing",
    "executing": "fixing",
    "rejected": "rejected",
    "snoozed": "snoozed",
    "expired": "expired",
    "not-started": "not-started",
}
# Outcomes that decide the incident's state while any VM has them, in order.
_BUSY: tuple[tuple[str, State], ...] = (("fixing", "fixing"), ("fix-failed", "failed"))
_RUN_OUTCOME = {
    "succeeded": "fixed",
    "failed": "fix-failed",
    "not-confirmed": "not-confirmed",
    "dry-run": "dry-run",
}


@dataclass(frozen=True, slots=True)
class VmOutcome:
    vm: str
    outcome: str
    run: Run | None = None
    approval: Approval | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    state: State
    why: str  # what made it so, e.g. "fixed", "by-hand", "awaiting-approval", "fix-failed"
    vms: tuple[VmOutcome, ...]
    counts: Counter[str] = field(default_factory=Counter)
    counted_failing: int = 0  # VMs beyond those listed, still failing (no automatic fix)

    @property
    def failing(self) -> int:
        """VMs still failing, listed or counted."""
        listed = sum(n for outcome, n in self.counts.items() if outcome not in SETTLED)
        return listed + self.counted_failing

    @property
    def settled(self) -> bool:
        return self.state == "resolved"

    def of(self, vm: str) -> VmOutcome | None:
        return next((v for v in self.vms if v.vm == vm), None)


def assess(
    incident: Incident,
    runs: list[Run],
    approvals: list[Approval],
    now: datetime,
) -> Assessment:
    """The incident's state and each listed VM's outcome."""
    latest_runs = latest_run_per_vm(runs)
    vms = tuple(
        _vm_outcome(incident, vm, latest_runs.get(vm), approvals, now) for vm in incident["vms"]
    )
    counts = Counter(v.outcome for v in vms)
    active = incident.get("active_count", len(incident.get("active_vms") or []))
    counted = max(0, active - len(incident.get("active_vms") or []))
    state, why = _state(incident, counts, counted)
    return Assessment(state, why, vms, counts, counted)


def latest_run_per_vm(runs: list[Run]) -> dict[str, Run]:
    """Each VM's newest run: never one a retry replaced (times are to the second only)."""
    retried = {r.get("retry_of") for r in runs}
    latest: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: r["created"]):
        if run["id"] not in retried:
            latest[run["vm"]] = run
    return latest


def _vm_outcome(
    incident: Incident, vm: str, run: Run | None, approvals: list[Approval], now: datetime
) -> VmOutcome:
    """`vm`'s outcome, with its latest run and the approval that decides for it."""
    approval = _covering(approvals, vm)
    if vm in (incident.get("identity_conflicts") or {}):
        return VmOutcome(vm, "in-doubt", run, approval)
    failing = vm in (incident.get("active_vms") or [])
    if run is not None and _still_current(incident, vm, run):
        if run["state"] in RUNNING:
            return VmOutcome(vm, "fixing", run, approval)
        outcome = run_outcome(run)
        # A fix that failed (or only simulated) says nothing of a VM Azure reports healthy
        # since: its recovery is the newer word.
        if outcome is not None and (failing or outcome in SETTLED):
            return VmOutcome(vm, outcome, run, approval)
    if not failing:
        return VmOutcome(vm, "recovered", run, approval)
    if approval is not None:
        state = approval["state"]
        if state == "pending" and parse_iso(approval["expires"]) <= now:
            state = "expired"
        outcome = _APPROVAL_OUTCOME.get(state)
        if outcome is not None:
            return VmOutcome(vm, outcome, run, approval)
    plan = incident.get("plan")
    manual = not plan or plan.get("mode") in {None, "manual"} or not plan.get("playbook")
    if incident.get("held") or manual:
        return VmOutcome(vm, "manual", run, approval)
    return VmOutcome(vm, "failing", run, approval)


def run_outcome(run: Run) -> str | None:
    """How a finished run ended, as a VM outcome ("fixed", "fix-failed"...); None else."""
    return _RUN_OUTCOME.get(run.get("state") or "")


def _still_current(incident: Incident, vm: str, run: Run) -> bool:
    """A finished run speaks for the VM unless the VM failed again after it ended."""
    if run["state"] in RUNNING:
        return True
    failed_at = (incident.get("failed_at") or {}).get(vm)
    return not failed_at or failed_at <= run["updated"]


def _covering(approvals: list[Approval], vm: str) -> Approval | None:
    """The newest approval that decides (or will decide) for `vm`."""
    live = [
        a
        for a in approvals
        if a["state"] not in {"superseded", "withdrawn"}
        and any(t.get("vm") == vm for t in a.get("targets") or [])
    ]
    return max(live, key=lambda a: a["created"], default=None)


def _state(incident: Incident, counts: Counter[str], counted: int) -> tuple[State, str]:
    resolution = incident.get("resolution")
    if incident.get("status") == "resolved":
        return "resolved", (resolution.get("why") if resolution else None) or _settled_why(counts)
    open_outcomes = {o for o, n in counts.items() if n and o not in SETTLED}
    if not open_outcomes and not counted and incident.get("vms"):
        return "resolved", _settled_why(counts)
    if incident.get("root_cause") == "flood":
        return "needs-attention", "flood"
    if incident.get("escalated"):
        return "needs-attention", "escalated"
    for outcome, state in _BUSY:
        if outcome in open_outcomes:
            return state, outcome
    attention = sorted(open_outcomes & ATTENTION)
    if attention or counted:
        return "needs-attention", attention[0] if attention else "counted"
    if open_outcomes == {"snoozed"}:
        return "snoozed", "snoozed"
    if "awaiting-approval" in open_outcomes:
        return "open", "awaiting-approval"
    return "open", "failing"


def _settled_why(counts: Counter[str]) -> str:
    if counts.get("fixed"):
        return "fixed"
    if counts.get("not-confirmed") and not counts.get("recovered"):
        return "not-confirmed"
    return "recovered"
