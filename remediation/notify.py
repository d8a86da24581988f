"""Notifiers that need no Teams: a recorder for replays and tests, a logger as fallback."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class RecordingNotifier:
    """Keeps every post and what each card shows now; updates are counted, not kept, so a
    storm's thousands of card edits cost no memory."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.updates = 0
        self.latest: dict[str, dict[str, Any]] = {}

    def post(self, view: dict[str, Any]) -> dict[str, Any]:
        card = {"message_id": f"msg-{len(self.posts) + 1}"}
        self.posts.append(view)
        self.latest[card["message_id"]] = view
        return card

    def update(self, view: dict[str, Any], card: dict[str, Any]) -> None:
        self.updates += 1
        self.latest[card["message_id"]] = view


class LogNotifier(RecordingNotifier):
    """Where no Teams conversation is configured yet: the card's gist goes to the log."""

    def post(self, view: dict[str, Any]) -> dict[str, Any]:
        incident = view["incident"]
        log.info("incident %s opened: %s on %s", incident["id"], incident["root_cause"],
                 ", ".join(incident["vms"][:5]))  # fmt: skip
        return super().post(view)
