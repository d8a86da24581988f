"""The timeline of a fix: every step it took, when, and how it ended (locks recorded, lifted,
the backup job and its state, the collection deleted, the lock put back), for the card's
folded Timeline and for "why did VM X fail"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cards import SHORT_TEXT, clip, line, rich, run
from bot.wording import (
    OUTCOMES,
    ago,
    humanize,
    in_language,
    moment,
    playbook_label,
    step_label,
    words,
)
from remediation.outcomes import run_outcome
from remediation.records import JournalEntry, Run

COMPACT_STEPS = 3
MAX_STEPS = 40
_PHASES = {
    "next": ("✓", "good"),
    "wait": ("…", "accent"),
    "failed": ("✗", "attention"),
    "unconfirmed": ("∅", "warning"),
    "start": ("▸", "accent"),
}
_TIMES = {"en": "({n} times)", "fr": "({n} fois)"}  # a step that ended alike n times in a row
_RUNNING = {"en": "running", "fr": "en cours"}


def timeline_blocks(
    runs: list[Run], lang: str, now: datetime, *, compact: bool = False
) -> list[dict[str, Any]]:
    """Each run's steps, oldest first; `compact` keeps the last few of each."""
    blocks: list[dict[str, Any]] = []
    for item in runs:
        blocks.append(_run_header(item, lang))
        entries = _repeats_counted(steps_of(item))
        if compact:
            entries = entries[-COMPACT_STEPS:]
        for entry, times in entries[-MAX_STEPS:]:
            blocks.append(_step(entry, lang, now, times))
    return blocks


def _repeats_counted(entries: list[JournalEntry]) -> list[tuple[JournalEntry, int]]:
    """Runs of the same step ending the same way with the same note (a fix looking again
    and again while it waits its turn) as their last entry and how many there were."""
    counted: list[tuple[JournalEntry, int]] = []
    for entry in entries:
        if counted and _said(entry) == _said(counted[-1][0]):
            counted[-1] = (entry, counted[-1][1] + 1)
        else:
            counted.append((entry, 1))
    return counted


def _said(entry: JournalEntry) -> tuple[Any, ...]:
    return entry.get("step"), entry.get("phase"), entry.get("note")


def steps_of(item: Run) -> list[JournalEntry]:
    """The journal without the start of each step that ended (its end says more); a step
    still going shows its start."""
    journal = item.get("journal") or []
    shown = [j for j in journal if j.get("phase") != "start"]
    if journal and journal[-1].get("phase") == "start":
        shown.append(journal[-1])
    return shown


def last_step(item: Run | None) -> str:
    """The step the run journaled last, "—" before its first."""
    journal = item.get("journal") if item else None
    return str((journal[-1].get("step") if journal else None) or "—")


def step_text(entry: JournalEntry, lang: str) -> str:
    """ "Lift the locks: lifted 1 lock(s)" in words a person reads."""
    label = step_label(str(entry.get("step") or "—"), lang)
    note = humanize(entry.get("note") or "")
    if lang == "fr":  # in French where the sentence is known, else as the fix wrote it
        note = in_language(note, lang) or note
    if entry.get("phase") == "start":
        note = _RUNNING.get(lang, _RUNNING["en"])
    colon = " :" if lang == "fr" else ":"  # French typography: a space before the colon
    return f"{label}{colon} {note}" if note else label


def _run_header(item: Run, lang: str) -> dict[str, Any]:
    outcomes = words(OUTCOMES, lang)
    outcome = outcomes.get(run_outcome(item) or "", _RUNNING.get(lang, "running"))
    return rich(
        run(clip(item.get("vm"), 80), weight="Bolder"),
        run(f"  {playbook_label(item.get('playbook'), lang)} · {outcome}", isSubtle=True),
        spacing="Medium",
    )


def _step(entry: JournalEntry, lang: str, now: datetime, times: int = 1) -> dict[str, Any]:
    icon, color = _PHASES.get(str(entry.get("phase")), ("•", "default"))
    when = moment(entry.get("time"))
    stamp = f"{ago(when, now, lang)} · {when:%H:%M:%S} UTC" if when else ""
    said = clip(step_text(entry, lang), SHORT_TEXT, lang)
    return rich(
        run(f"{icon} ", color=color),
        run(f"{said} {_TIMES.get(lang, _TIMES['en']).format(n=times)}" if times > 1 else said),
        run(f"  ({stamp})" if stamp else "", isSubtle=True),
    )


def timeline_lines(item: Run, lang: str, now: datetime, limit: int) -> list[dict]:
    """The last `limit` steps of one run as lines, for a chat answer."""
    return [_step(entry, lang, now) for entry in steps_of(item)[-limit:]] or [
        line("—", isSubtle=True)
    ]
