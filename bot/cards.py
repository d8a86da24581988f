"""Adaptive Cards (1.5) for Teams: the safe building blocks every card is made of, and the
small chat answer and notice cards (the incident card is bot.incident_card).

Untrusted text (error messages, VM names, user names, ARM ids) only ever goes into
RichTextBlock TextRuns, which Teams renders without markdown, and every string is defanged so
the Adaptive Card templating marker "${" never appears. Lists and texts are truncated with a
count so that a 500-VM storm with 20 KB messages stays far below the 100 KB message limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from bot.wording import named
from remediation.signals.arm_id import ArmId

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_CARD_BYTES = 100 * 1024
SHORT_TEXT = 300
LONG_TEXT = 2000
PORTAL = "https://portal.azure.com/#@/resource"

LABELS: dict[str, dict[str, str]] = {
    "en": {"more": "and {n} more", "truncated": "… ({n} more characters)"},
    "fr": {"more": "et {n} autres", "truncated": "… ({n} caractères de plus)"},
}


def labels(lang: str | None) -> dict[str, str]:
    return LABELS.get(lang or "en", LABELS["en"])


# -- safe text ------------------------------------------------------------------------------
def defang(text: Any) -> str:
    """Any value as text that no Adaptive Card template engine would expand."""
    return str("" if text is None else text).replace("${", "$\u200b{")


def clip(text: Any, limit: int, lang: str = "en") -> str:
    """At most `limit` characters, saying how many were cut; an ARM id in it is first
    replaced by its name, so no id is ever cut half-way (Details shows ids whole)."""
    value = defang(named(text))
    if len(value) <= limit:
        return value
    return value[:limit] + " " + labels(lang)["truncated"].format(n=len(value) - limit)


def run(text: Any, **style: Any) -> dict[str, Any]:
    """A TextRun: rendered verbatim, never as markdown."""
    return {"type": "TextRun", "text": defang(text), **style}


def rich(*inlines: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(inlines), **props}


def line(*texts: Any, **style: Any) -> dict[str, Any]:
    """One line of untrusted text (several pieces are joined by a space)."""
    return rich(run(" ".join(str(t) for t in texts), **style))


def fact(label: str, value: Any, **style: Any) -> dict[str, Any]:
    """`label: value`, the label bold, the value verbatim."""
    return rich(run(f"{label}: ", weight="Bolder"), run(value, **style))


def heading(text: str) -> dict[str, Any]:
    return rich(run(text, weight="Bolder", size="Medium"), spacing="Medium")


def execute(title: str, verb: str, data: dict[str, Any], **props: Any) -> dict[str, Any]:
    """An Action.Execute button; `data` carries ids only, never what a click may change."""
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": data, **props}


def open_url(title: str, url: str, **props: Any) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url, **props}


def buttons(*actions: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A row of buttons inside the card's body."""
    return {"type": "ActionSet", "actions": list(actions), **props}


def hidden(element_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A section shown only when its toggle button is pressed."""
    return {"type": "Container", "id": element_id, "isVisible": False, "items": items}


def toggle(title: str, *element_ids: str) -> dict[str, Any]:
    return {"type": "Action.ToggleVisibility", "title": title,
            "targetElements": list(element_ids)}  # fmt: skip


def bullets(items: Iterable[Any], limit: int, lang: str, numbered: bool = False) -> list[dict]:
    items = list(items)
    shown = [
        line(f"{n}." if numbered else "•", clip(item, SHORT_TEXT, lang))
        for n, item in enumerate(items[:limit], 1)
    ]
    if len(items) > limit:
        shown.append(line(labels(lang)["more"].format(n=len(items) - limit), isSubtle=True))
    return shown


def card(body: list[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
    }
    if actions:
        doc["actions"] = list(actions)
    return doc


def size_of(doc: dict[str, Any]) -> int:
    """Bytes of the card as sent (UTF-8 JSON)."""
    return len(json.dumps(doc, ensure_ascii=False).encode("utf-8"))


def portal_url(arm_id: str | None) -> str | None:
    """The portal page of an ARM resource, or None for anything that is not an ARM id."""
    if arm_id is None or ArmId.parse(arm_id) is None:
        return None
    return PORTAL + quote(arm_id.strip(), safe="/")


# -- chat answers -----------------------------------------------------------------------------
def answer_card(title: str, body: list[dict[str, Any]]) -> dict[str, Any]:
    """A chat answer: a title then blocks, capped like the incident card."""
    doc = card([heading(title), *body])
    while size_of(doc) > MAX_CARD_BYTES * 0.9 and len(doc["body"]) > 2:
        doc["body"] = [*doc["body"][: len(doc["body"]) // 2], line("…", isSubtle=True)]
    return doc


def notice_card(message: str, *, color: str = "warning") -> dict[str, Any]:
    """One sentence, e.g. the answer to a refused click on a card that no longer exists."""
    return card([line(clip(message, LONG_TEXT), weight="Bolder", color=color)])
