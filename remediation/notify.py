"""Where cards go (the Notifier the engine posts to), what a card shows (a View), and
notifiers that need no Teams: a recorder for replays and tests, a logger as fallback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from remediation.records import Approval, CardRef, Incident, Run

if TYPE_CHECKING:
    from remediation.catalogue import Entry

log = logging.getLogger(__name__)


class ViewPolicy(TypedDict):
    dry_run: bool
    paused: bool


class View(TypedDict):
    """Everything a card shows about one incident, as of `now` (Engine.view)."""

    incident: Incident
    entry: Entry | None
    runs: list[Run]
    approval: Approval | None  # the incident's current approval
    approvals: list[Approval]
    writes: dict[str, list[dict[str, Any]]]  # run id -> the audit entries of its ARM writes
    entries: dict[str, Entry | None]  # other catalogue entries the card names
    policy: ViewPolicy
    now: str


class Notifier(Protocol):
    """Posts a new thread per incident, then updates that same message."""

    def post(self, view: View) -> CardRef | None: ...

    def update(self, view: View, card: CardRef) -> None: ...


class RecordingNotifier:
    """Keeps every post and what each card shows now; updates are counted, not kept, so a
    storm's thousands of card edits cost no memory."""

    def __init__(self) -> None:
        self.posts: list[View] = []
        self.updates = 0
        self.latest: dict[str, View] = {}

    def post(self, view: View) -> CardRef:
        card = {"message_id": f"msg-{len(self.posts) + 1}"}
        self.posts.append(view)
        self.latest[card["message_id"]] = view
        return card

    def update(self, view: View, card: CardRef) -> None:
        self.updates += 1
        self.latest[card["message_id"]] = view


class LogNotifier(RecordingNotifier):
    """Where no Teams conversation is configured yet: the card's gist goes to the log."""

    def post(self, view: View) -> CardRef:
        incident = view["incident"]
        log.info("incident %s opened: %s on %s", incident["id"], incident["root_cause"],
                 ", ".join(incident["vms"][:5]))  # fmt: skip
        return super().post(view)
