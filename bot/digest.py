"""The weekly digest card: the week's incidents by cause, fixes run / succeeded / failed, the
time fixing took, the VMs that failed most, and a chart of fixes per day (a PNG data URI).

The timer sends it once per ISO week to each installed channel (a claim in the store per week
and channel, so several workers never send it twice); "digest" in chat answers with the last
seven days.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.cards import answer_card, bullets, clip, fact, heading, line, rich, run
from bot.chart import data_uri, stacked_bars
from bot.wording import words as table
from remediation.catalogue import default_catalogue
from remediation.digest import Week, last_seven_days, previous_week, week

if TYPE_CHECKING:
    from remediation.engine import Engine

log = logging.getLogger(__name__)

DIGESTS = "digests"
SHOWN_CAUSES = 8
_SERIES = (  # run states, bottom up, and their colours in the chart and its legend
    (("succeeded",), (46, 125, 50), "good"),
    (("failed",), (196, 49, 75), "attention"),
    (("not-confirmed", "dry-run", "cancelled", "skipped"), (170, 170, 170), "default"),
)
_RUNNING = ("pending", "queued", "running", "waiting")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly digest: {start} to {end}",
        "incidents": "Incidents opened",
        "fixes": "Fixes",
        "fixes_value": "{run} run · {ok} succeeded · {failed} failed",
        "time_to_fix": "Time to fix (median)",
        "none": "—",
        "by_cause": "By cause",
        "vms": "VMs that failed most",
        "chart": "Fixes per day",
        "legend_ok": "■ succeeded",
        "legend_failed": "■ failed",
        "legend_other": "■ nothing to do / dry run",
        "quiet": "A quiet week: no incident, no fix.",
        "days": "Mon Tue Wed Thu Fri Sat Sun",
        "alt": "Fixes per day from {start}: {series}",
    },
    "fr": {
        "title": "Bilan de la semaine : du {start} au {end}",
        "incidents": "Incidents ouverts",
        "fixes": "Corrections",
        "fixes_value": "{run} lancées · {ok} réussies · {failed} échouées",
        "time_to_fix": "Délai de correction (médiane)",
        "none": "—",
        "by_cause": "Par cause",
        "vms": "VM les plus en échec",
        "chart": "Corrections par jour",
        "legend_ok": "■ réussies",
        "legend_failed": "■ échouées",
        "legend_other": "■ rien à faire / simulation",
        "quiet": "Semaine calme : aucun incident, aucune correction.",
        "days": "lun mar mer jeu ven sam dim",
        "alt": "Corrections par jour depuis le {start} : {series}",
    },
}


class DigestPoster(Protocol):
    """Posts a digest card once per week and channel (bot.teams_notifier.TeamsNotifier)."""

    def post_digest(self, week: str, card: dict[str, Any]) -> int: ...


def week_of(engine: Engine, now: datetime) -> Week:
    """The last seven days up to `now`, as "digest" in chat reports them."""
    return week(engine.incidents.all(), engine.runs.all(), *last_seven_days(now))


def digest_card(found: Week, lang: str) -> dict[str, Any]:
    w = table(WORDS, lang)
    title = w["title"].format(start=f"{found.start:%Y-%m-%d}", end=f"{found.end:%Y-%m-%d}")
    fixes = found.fixes
    body: list[dict[str, Any]] = [
        fact(w["incidents"], found.incidents),
        fact(w["fixes"], w["fixes_value"].format(
            run=sum(fixes.values()), ok=fixes["succeeded"], failed=fixes["failed"])),
        fact(w["time_to_fix"], _duration(found.median_time_to_fix) or w["none"]),
    ]  # fmt: skip
    if not found.incidents and not fixes:
        body.append(line(w["quiet"], isSubtle=True))
    if found.by_cause:
        catalogue = default_catalogue()
        body.append(heading(w["by_cause"]))
        causes = [
            f"{_cause_title(catalogue, cause, lang)}: {n}"
            for cause, n in found.by_cause.most_common(SHOWN_CAUSES)
        ]
        body += bullets(causes, SHOWN_CAUSES, lang)
    if found.failing_vms:
        body.append(heading(w["vms"]))
        body.append(line(", ".join(f"{clip(vm, 80)} ({n})" for vm, n in found.failing_vms)))
    body += _chart(found, w)
    return answer_card(title, body)


def _chart(found: Week, w: dict[str, str]) -> list[dict[str, Any]]:
    columns = [[sum(day[s] for s in states) for states, _, _ in _SERIES] for day in found.per_day]
    series = "; ".join("/".join(str(v) for v in column) for column in columns)
    first = found.start.weekday()  # the chart starts on the week's first day
    days = w["days"].split()
    days = days[first:] + days[:first]
    return [
        heading(w["chart"]),
        {
            "type": "Image",
            "url": data_uri(stacked_bars(columns, [color for _, color, _ in _SERIES])),
            "altText": w["alt"].format(start=f"{found.start:%Y-%m-%d}", series=series),
            "size": "Stretch",
        },
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [
                        rich(run(day, isSubtle=True, size="Small"), horizontalAlignment="Center")
                    ],
                }
                for day in days
            ],
        },
        rich(
            run(w["legend_ok"] + "  ", color="good"),
            run(w["legend_failed"] + "  ", color="attention"),
            run(w["legend_other"], isSubtle=True),
        ),
    ]


def _cause_title(catalogue, cause: str, lang: str) -> str:
    entry = catalogue.get(cause)
    return entry.title.get(lang) if entry else cause.removeprefix("unclassified:")


def _duration(value: timedelta | None) -> str | None:
    if value is None:
        return None
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def send_weekly(engine: Engine, notifier: DigestPoster) -> int:
    """Post last week's digest to each installed channel that has not had it; the timer
    calls this every cycle and it sends once per week. Returns the posts made."""
    start, end = previous_week(engine.clock())
    found = week(engine.incidents.all(), engine.runs.all(), start, end)
    return notifier.post_digest(found.key, digest_card(found, found.language))
