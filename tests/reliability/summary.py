"""What the reliability suites actually did, tallied while they run and shown as one table at
the end of the run (and written under the pytest cache for bench/RESULTS.md).

Suites call `record(suite, **counts)` with what they tried and what they saw. Counts add up
across tests, except those named `max_*`, which keep the largest value. Counts named
`to_*` or `into_*` break a total down by target (endpoint, channel). pytest runs in one
process here (no xdist), so a module-level tally is enough.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

SUITES_FOLDER = "tests/reliability/"
SUMMARY_FILE = "reliability-summary.md"
HEADER = ("Suite", "Tried", "Nothing lost")


class Tally:
    """Counts per suite; thread-safe because some suites record from worker threads."""

    def __init__(self) -> None:
        self._suites: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def record(self, suite: str, **counts: int) -> None:
        with self._lock:
            tally = self._suites.setdefault(suite, Counter())
            for name, value in counts.items():
                if name.startswith("max_"):
                    tally[name] = max(tally[name], value)
                else:
                    tally[name] += value

    def suites(self) -> dict[str, Counter[str]]:
        with self._lock:
            return {suite: Counter(counts) for suite, counts in self._suites.items()}


_TALLY = Tally()


def record(suite: str, **counts: int) -> None:
    """Add `counts` to `suite`'s tally for this run's summary."""
    _TALLY.record(suite, **counts)


# -- one row per suite -------------------------------------------------------------------------

Row = tuple[str, str]


def _breakdown(counts: Mapping[str, int], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): v for k, v in sorted(counts.items()) if k.startswith(prefix)}


def _listed(parts: Mapping[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in parts.items())


def _fuzz(c: Counter[str]) -> Row:
    endpoints = _breakdown(c, "to_")
    return (
        f"{c['payloads']:,} hostile payloads over HTTP to {len(endpoints)} endpoints "
        f"({_listed(endpoints)})",
        f"{c['answered_5xx']:,} x 5xx, {c['refused']:,} refused with a reason, "
        f"{c['stored_by_refusal']:,} stored by a refusal",
    )


def _redelivery(c: Counter[str]) -> Row:
    messages, effects = c["messages"], c["effects"]
    return (
        f"{messages:,} messages x{c['deliveries'] // max(messages, 1)}, concurrently",
        "1 effect each" if effects == messages else f"{effects:,} effects for {messages:,}",
    )


def _arm_chaos(c: Counter[str]) -> Row:
    return (
        f"{c['faults_injected']:,} ARM faults injected into {c['fixes']:,} fixes",
        f"{c['completed']:,} completed, {c['failed_with_reason']:,} failed with a reason, "
        f"{c['failed_without_reason']:,} without, {c['half_done']:,} half-done, "
        f"{c['locks_not_restored']:,} locks not restored, max {c['max_writes_10s']:,} writes/10 s "
        f"(budget {c['max_write_budget_10s']:,})",
    )


def _crash_resume(c: Counter[str]) -> Row:
    return (
        f"{c['crashes']:,} worker crashes mid-fix across {c['playbooks']:,} playbooks, "
        f"{c['crashes_with_a_lock_lifted']:,} with a lock lifted",
        f"{c['resumed_to_the_clean_result']:,} resumed to a clean run's result, "
        f"{c['crashes'] - c['resumed_to_the_clean_result']:,} not",
    )


def _approval_attacks(c: Counter[str]) -> Row:
    return (
        f"{c['attempts']:,} forged, replayed, expired or unauthorised decisions",
        f"{c['accepted']:,} accepted, {c['audited']:,} audited",
    )


def _injection(c: Counter[str]) -> Row:
    channels = _breakdown(c, "into_")
    tried = sum(channels.values())
    return (
        f"{tried:,} hostile inputs ({_listed(channels)})",
        f"{tried - c['blocked']:,} got through",
    )


def _secrets(c: Counter[str]) -> Row:
    return (
        f"{c['artefacts']:,} artefacts ({c['characters']:,} characters) scanned for "
        f"{c['known_values']:,} secrets and sent tokens and {c['token_shapes']:,} token shapes",
        f"{c['leaks']:,} leaks",
    )


def _ingestion_auth(c: Counter[str]) -> Row:
    routes = _breakdown(c, "to_")
    return (
        f"{c['requests']:,} requests without the secret ({c['max_shapes']:,} shapes) to "
        f"{len(routes)} ingestion routes ({_listed(routes)})",
        f"{c['accepted']:,} accepted, {c['stored']:,} stored",
    )


def _host_crash(c: Counter[str]) -> Row:
    return (
        f"{c['tries']:,} kill -9 of the local host, its queue worker idle, frozen or mid-step",
        f"{c['workers_left_alive']:,} workers left alive",
    )


def _forged_alerts(c: Counter[str]) -> Row:
    kinds = _breakdown(c, "to_")
    return (
        f"{sum(kinds.values()):,} forged alert scenarios ({_listed(kinds)})",
        f"{c['unconfirmed_writes']:,} writes to a resource Azure did not confirm",
    )


def _stale_worker(c: Counter[str]) -> Row:
    return (
        f"{c['tries']:,} workers that outlived their lease, a lock write pending on a "
        "throttled retry",
        f"{c['stale_writes']:,} stale writes reached Azure, {c['locks_left_off']:,} locks left off",
    )


def _anything(c: Counter[str]) -> Row:
    return ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in c.items()), ""


ROWS: dict[str, Callable[[Counter[str]], Row]] = {
    "fuzz": _fuzz,
    "redelivery": _redelivery,
    "arm chaos": _arm_chaos,
    "crash-resume": _crash_resume,
    "approval attacks": _approval_attacks,
    "injection": _injection,
    "secrets": _secrets,
    "ingestion auth": _ingestion_auth,
    "host crash": _host_crash,
    "forged alerts": _forged_alerts,
    "stale worker": _stale_worker,
}


def table(suites: Mapping[str, Counter[str]]) -> str:
    """A Markdown table, known suites first in a fixed order, then the others as recorded."""
    order = [s for s in ROWS if s in suites] + [s for s in suites if s not in ROWS]
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for suite in order:
        tried, outcome = ROWS.get(suite, _anything)(suites[suite])
        lines.append(f"| {suite} | {tried} | {outcome} |")
    return "\n".join(lines) + "\n"


# -- the end-of-run hook -------------------------------------------------------------------------


def reliability_ran(stats: Mapping[str, list[Any]]) -> bool:
    return any(
        isinstance(report, pytest.TestReport) and report.nodeid.startswith(SUITES_FOLDER)
        for reports in stats.values()
        for report in reports
    )


def summary_path(config: pytest.Config) -> Path | None:
    """`<cache dir>/reliability-summary.md`, or None when the cache plugin is off."""
    if getattr(config, "cache", None) is None:
        return None
    return config.rootpath / config.getini("cache_dir") / SUMMARY_FILE


def report(terminal: Any, config: pytest.Config, tally: Tally = _TALLY) -> None:
    """Print the table when a reliability suite ran, and write it next to the pytest cache."""
    suites = tally.suites()
    if not suites or not reliability_ran(terminal.stats):
        return
    text = table(suites)
    terminal.write_sep("=", "reliability summary")
    terminal.write(text)
    path = summary_path(config)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        terminal.write_line(f"(also in {path})")
