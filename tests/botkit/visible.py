"""What a person reads on a card, and what must never be there: a Python exception's name
(raw SDK text) or an ARM id cut short. The fake Bot Connector and the dev channel's recording
run every card the suite produces through `text_problems`, so any test that makes the bot
say such a thing fails."""

from __future__ import annotations

import builtins
import functools
import re
from typing import Any

import azure.core.exceptions

# Properties whose text a client shows.
_SHOWN = ("text", "title", "value", "label", "placeholder", "altText", "fallbackText")
_ARM_ID = re.compile(r"/subscriptions/\S*", re.IGNORECASE)
_CUT = re.compile(r"^\s*…|^\s*\(\d+ more characters\)|^\s*\.\.\.")


def visible_texts(card: Any) -> list[str]:
    """Every text of a card a client can show (its folded parts included)."""
    found: list[str] = []
    if isinstance(card, dict):
        for key, value in card.items():
            if key in _SHOWN and isinstance(value, str):
                found.append(value)
            elif key not in {"url", "data", "verb", "id", "targetElements", "$schema"}:
                found += visible_texts(value)
    elif isinstance(card, list):
        for item in card:
            found += visible_texts(item)
    return found


@functools.cache
def _exception_names() -> re.Pattern[str]:
    """Names of the exceptions the app could leak: Python's own, azure-core's, the app's."""
    from bot import connector
    from remediation import store
    from remediation.azure import fence, operations
    from remediation.playbooks import base
    from remediation.queue import base as queue
    from remediation.signals import model

    modules = (builtins, azure.core.exceptions, connector, store, fence, operations, base,
               queue, model)  # fmt: skip
    names = {
        name
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and not issubclass(value, Warning)  # "Warning" is also Azure's word for a health
    }
    names.add("Traceback")
    return re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, names))) + r")\b")


def text_problems(card: Any) -> list[str]:
    """What a person should never read on `card`: each as "<problem>: <text>"."""
    problems = []
    for text in visible_texts(card):
        found = _exception_names().search(text)
        if found:
            problems.append(f"exception name {found.group(0)!r} in: {text[:200]}")
        for match in _ARM_ID.finditer(text):
            if _cut_short(match.group(0), text[match.end() :]):
                problems.append(f"ARM id cut short: {text[:200]}")
    return problems


def _cut_short(arm_id: str, after: str) -> bool:
    """An id that ends in "…", is followed by a truncation mark, or stops between a resource
    type and its name."""
    if "…" in arm_id or "..." in arm_id or _CUT.match(after):
        return True
    parts = [p for p in arm_id.rstrip(".,;:)'\"").split("/") if p]
    return len(parts) % 2 == 1
