"""The week in numbers, for the weekly digest card: incidents by cause, fixes run, succeeded
and failed, how long fixing took, the VMs that failed most, and fixes per day.

Read from the store (incidents opened and runs started in the week), so the digest says what
the cards said, whichever worker did the work.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from remediation.clock import parse_iso
from remediation.records import Incident, Run

DAYS = 7
TOP_VMS = 5


@dataclass(frozen=True)
class Week:
    start: datetime
    end: datetime
    incidents: int = 0
    by_cause: Counter[str] = field(default_factory=Counter)  # entry id (or root cause) -> incidents
    fixes: Counter[str] = field(default_factory=Counter)  # final state -> runs
    time_to_fix: list[timedelta] = field(default_factory=list)  # fired -> fixed, per incident
    failing_vms: list[tuple[str, int]] = field(default_factory=list)  # most incidents first
    per_day: list[Counter[str]] = field(default_factory=list)  # per day: run state -> runs
    languages: Counter[str] = field(default_factory=Counter)  # of the incidents opened

    @property
    def language(self) -> str:
        """The language most of the week's incidents spoke (the digest speaks it too)."""
        return self.languages.most_common(1)[0][0] if self.languages else "en"

    @property
    def key(self) -> str:
        """The ISO week, e.g. 2026-W44: one digest per week and channel."""
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def median_time_to_fix(self) -> timedelta | None:
        if not self.time_to_fix:
            return None
        # typeshed allows numbers only; a timedelta has all median needs (sorting, + and / 2)
        return statistics.median(self.time_to_fix)  # type: ignore[type-var]


def previous_week(now: datetime) -> tuple[datetime, datetime]:
    """The last whole ISO week before `now` (Monday 00:00 UTC to the next Monday): what the
    weekly timer reports, the first time it runs in a new week."""
    monday = (now.astimezone(UTC) - timedelta(days=now.astimezone(UTC).weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday - timedelta(days=DAYS), monday


def last_seven_days(now: datetime) -> tuple[datetime, datetime]:
    """What "digest" in chat reports: today and the six days before (UTC), up to `now`, so
    each bar of the chart is one calendar day under that day's name."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DAYS - 1), now


def week(incidents: list[Incident], runs: list[Run], start: datetime, end: datetime) -> Week:
    """Incidents opened and fixes started from `start` to `end` (seven days)."""
    opened = [i for i in incidents if _within(i.get("first_seen"), start, end)
              and i.get("root_cause") != "flood"]  # fmt: skip
    started = [r for r in runs if _within(r.get("created"), start, end)]
    by_cause = Counter(i.get("entry_id") or i.get("root_cause") or "?" for i in opened)
    vms = Counter(vm for i in opened for vm in i.get("vms") or [])
    per_day: list[Counter[str]] = [Counter() for _ in range(DAYS)]
    for run in started:
        day = min(DAYS - 1, int((parse_iso(run["created"]) - start) / timedelta(days=1)))
        per_day[day][run["state"]] += 1
    fixed = [
        parse_iso(i["resolved_at"]) - parse_iso(i.get("fired_at") or i["first_seen"])
        for i in incidents
        if _resolved_why(i) == "fixed" and _within(i.get("resolved_at"), start, end)
    ]
    return Week(
        start, end, len(opened), by_cause, Counter(r["state"] for r in started), fixed,
        vms.most_common(TOP_VMS), per_day, Counter(i.get("language") or "en" for i in opened),
    )  # fmt: skip


def _resolved_why(incident: Incident) -> str | None:
    resolution = incident.get("resolution")
    return resolution.get("why") if resolution else None


def _within(value: Any, start: datetime, end: datetime) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return start <= parse_iso(value) <= end
    except ValueError:
        return False
