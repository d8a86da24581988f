"""NCRONTAB schedules as Azure Functions timer triggers write them (with seconds).

`{second} {minute} {hour} {day} {month} {day-of-week}`; each field takes `*`, numbers,
ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`. Day of week 0 is Sunday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_BOUNDS = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


class ScheduleError(ValueError):
    """Not an NCRONTAB expression this host understands."""


@dataclass(frozen=True, slots=True)
class Schedule:
    fields: tuple[frozenset[int], ...]

    @classmethod
    def parse(cls, text: str) -> Schedule:
        parts = text.split()
        if len(parts) != 6:
            raise ScheduleError(f"{text!r}: expected 6 fields (seconds first)")
        return cls(
            tuple(_field(p, lo, hi, text) for p, (lo, hi) in zip(parts, _BOUNDS, strict=True))
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first matching second strictly after `moment` (searched up to a year ahead)."""
        second, minute, hour, day, month, weekday = self.fields
        candidate = moment.replace(microsecond=0) + timedelta(seconds=1)
        limit = candidate + timedelta(days=366)
        while candidate < limit:
            if (
                candidate.month in month
                and candidate.day in day
                and (candidate.weekday() + 1) % 7 in weekday
            ):
                if candidate.hour in hour and candidate.minute in minute:
                    later = [s for s in sorted(second) if s >= candidate.second]
                    if later:
                        return candidate.replace(second=later[0])
                candidate = candidate.replace(second=0) + timedelta(minutes=1)
            else:
                candidate = candidate.replace(hour=0, minute=0, second=0) + timedelta(days=1)
        raise ScheduleError("the schedule never fires")


def _field(text: str, lo: int, hi: int, whole: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = lo, hi
            elif "-" in base:
                start, end = (int(x) for x in base.split("-", 1))
            else:
                start = end = int(base)
        except ValueError as exc:
            raise ScheduleError(f"{whole!r}: bad field {text!r}") from exc
        if step < 1 or start < lo or end > hi or start > end:
            raise ScheduleError(f"{whole!r}: field {text!r} outside {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return frozenset(values)
