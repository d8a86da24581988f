"""What the bot handles, decided once per processed signal: Azure Backup and Azure Migrate
failures (seed 003's appliance network errors included, as Migrate's). Everything else an
action group or Event Grid sends is acknowledged and recorded, never an incident or a card:

- **out of scope**: an alert or event that is not about Backup or Migrate. A signal counts as
  Backup's or Migrate's when its payload shows it (`Signal.service`: the monitoring service,
  the resources, the Log Analytics table) or when its text or codes are a catalogued error;
  alerts from the monitoring services the policy lists under `never` (Service Health, Resource
  Health, budgets, smart detectors...) are out of scope whatever they say. Text pasted by a
  person is always in scope.
- **a fix's own job**: a Backup job that one of the bot's fixes ran and followed (the
  cleanup's first backup fails on purpose; Azure still alerts on it, after the fix ended): the
  fix's card tells that job's story (the engine decides this one, from the runs).
- **not a failure**: a job still running, cancelled or done (`quiet_statuses`), or a health
  error that is informational (`informational_levels`) or sits on an item whose health is
  fine (`healthy_statuses`), like "no test migration was done yet" on a replicating item.

The engine records the verdict on the signal's record and moves on; `ignored_counts` gives
the tallies the bot's `status` answer shows. The lists are set in the policy's `scope` block.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from remediation.classify import Classification
from remediation.policy import Scope
from remediation.signals.model import Signal, SourceKind
from remediation.store import Store

OUT_OF_SCOPE = "out-of-scope"
NOT_A_FAILURE = "not-a-failure"
FIX_JOB = "fix-job"
IGNORED_STATES = (OUT_OF_SCOPE, NOT_A_FAILURE, FIX_JOB)
_ENTRY_SERVICES = {
    "backup": "backup",
    "migrate-replication": "migrate",
    "migrate-network": "migrate",
}


@dataclass(frozen=True, slots=True)
class Ignored:
    """Why a signal is recorded without becoming an incident."""

    state: str
    reason: str

    def settle(self, record: dict[str, Any] | None, summary: dict[str, Any]) -> dict[str, Any]:
        """The signal's record, marked with the verdict; the signal itself is replaced by the
        few fields that say what was ignored (the alert rule, the service, the resource)."""
        record = dict(record or {})
        record.pop("signal", None)
        return {**record, "state": self.state, "reason": self.reason, "ignored": summary}


def ignored_because(signal: Signal, found: Classification, scope: Scope) -> Ignored | None:
    """Out of scope or not a failure (see the module docstring), or None to handle it."""
    outside = _outside(signal, found, scope)
    if outside:
        return Ignored(OUT_OF_SCOPE, outside)
    quiet = _not_a_failure(signal, scope)
    return Ignored(NOT_A_FAILURE, quiet) if quiet else None


def _outside(signal: Signal, found: Classification, scope: Scope) -> str | None:
    if signal.source is SourceKind.RAW_TEXT:
        return None
    monitoring = str(signal.extra.get("monitoring_service") or "")
    if monitoring.lower() in scope.never:
        return f"{monitoring} alerts are outside Azure Backup and Azure Migrate"
    service = signal.service or (_ENTRY_SERVICES.get(found.entry.service) if found.entry else None)
    if service is None:
        return "not about Azure Backup or Azure Migrate (no resource, service or known error)"
    if service not in scope.services:
        return f"{service} signals are out of the policy's scope"
    return None


def _not_a_failure(signal: Signal, scope: Scope) -> str | None:
    status = (signal.status or "").lower()
    level = (signal.error_level or "").lower()
    if level and level in scope.informational_levels:
        return f"an informational health error ({signal.error_level})"
    if level and status in scope.healthy_statuses:
        return f"a health error on an item whose health is {signal.status}"
    if status in scope.quiet_statuses:
        return f"status {signal.status}: not a failure"
    return None


def summary_of(signal: Signal) -> dict[str, Any]:
    """What an ignored signal's record keeps: enough to tell what was ignored."""
    fields = {
        "source": signal.source.value,
        "service": signal.service,
        "status": signal.status,
        "vm": signal.vm,
        "resource_id": signal.resource_id,
        "alert_rule": signal.extra.get("alert_rule"),
        "monitoring_service": signal.extra.get("monitoring_service"),
    }
    return {k: v for k, v in fields.items() if v}


def ignored_counts(store: Store, table: str) -> dict[str, int]:
    """How many recorded signals were out of scope, not failures, or a fix's own jobs."""
    counts: Counter[str] = Counter()
    for state in IGNORED_STATES:
        counts[state] = len(store.query(table, where={"state": state}))
    return dict(counts)
