"""Append-only audit log: who or what decided, what was done, when, and the result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from remediation.clock import Clock, iso, parse_iso, utcnow
from remediation.records import Run
from remediation.store import Store

AUDIT_TABLE = "audit"
MAX_RUN_DAYS = 7  # a run's writes are looked up over its last week at most
ARM_ACTION = "Microsoft."  # an ARM write's action is its RBAC action


class AuditLog:
    def __init__(self, store: Store, clock: Clock = utcnow) -> None:
        self._store = store
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        target: str,
        result: str,
        **details: Any,
    ) -> None:
        """One line per decision or ARM write; `details` carries request ids and reasons."""
        entry = {
            "time": iso(self._clock()),
            "actor": actor,
            "action": action,
            "target": target,
            "result": result,
            **details,
        }
        self._store.append(AUDIT_TABLE, entry["time"][:10], entry)

    def entries(self, day: str | None = None) -> list[dict[str, Any]]:
        return [r.data for r in self._store.query(AUDIT_TABLE, day)]

    def for_run(self, run: Run) -> list[dict[str, Any]]:
        """The ARM writes a fix run made, oldest first (their request ids, their results)."""
        last = parse_iso(run["updated"]).date()
        day = max(parse_iso(run["created"]).date(), last - timedelta(days=MAX_RUN_DAYS))
        found: list[dict[str, Any]] = []
        while day <= last:
            records = self._store.query(AUDIT_TABLE, day.isoformat(), where={"run_id": run["id"]})
            found += [r.data for r in records if r.data["action"].startswith(ARM_ACTION)]
            day += timedelta(days=1)
        return sorted(found, key=lambda e: e["time"])
