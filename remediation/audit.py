"""Append-only audit log: who or what decided, what was done, when, and the result."""

from __future__ import annotations

from typing import Any

from remediation.clock import Clock, iso, utcnow
from remediation.store import Store

AUDIT_TABLE = "audit"


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
