"""Teams-shaped sample activities from tests/events/bot/, re-pointed at a local service URL."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events" / "bot"
BOT_APP_ID = "00000000-0000-4000-8000-00000000b07a"


@functools.cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def sample(name: str, service_url: str | None = None, **fields: Any) -> dict[str, Any]:
    """A fresh copy of sample `name` with its serviceUrl replaced and top-level `fields` set."""
    activity = copy.deepcopy(_load(name))
    if service_url is not None:
        activity["serviceUrl"] = service_url
    activity.update(fields)
    return activity
