"""The engine's Notifier for Teams: one channel thread per incident, edited in place, and the
weekly digest.

`post` starts a new thread in the installed channel and returns the card reference (thread
conversation id, root activity id, service URL, ...); `update` edits that same message. A card
that could not be posted or updated (throttled, connector down, timeout) is recorded in the
"card_backlog" table and sent again by `catch_up` after the next call that gets through, or
when the bot is (re)installed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from bot.connector import BotRemoved, ConnectorError, ConversationNotFound, MessageTooLarge
from bot.conversations import Conversations, key_of
from bot.endpoint import BotEndpoint
from bot.incident_card import incident_card
from bot.model import ConversationRef, reply_card
from bot.runtime import BotRuntime
from remediation.clock import iso, parse_iso, utcnow
from remediation.notify import View
from remediation.records import CardRef, Incident
from remediation.store import Store

if TYPE_CHECKING:
    from remediation.engine import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")

BACKLOG = "card_backlog"
PARTITION = "incident"
DIGESTS = "digests"
# An incident younger than this may still be in its first post on another worker.
SETTLE = timedelta(seconds=60)


class TeamsNotifier:
    def __init__(self, runtime: BotRuntime, store: Store) -> None:
        self.runtime = runtime
        self.conversations = Conversations(store)
        self._store = store
        self._engine: Engine | None = None

    def attach(self, engine: Engine) -> None:
        """Give access to the engine's views, so that backlogged cards can be re-sent."""
        self._engine = engine

    # -- Notifier protocol ------------------------------------------------------------------
    def post(self, view: View) -> CardRef | None:
        incident_id = view["incident"]["id"]
        card = self._post(view)
        if card is not None:
            self.catch_up(skip=incident_id)
        return card

    def update(self, view: View, card: CardRef) -> None:
        incident_id = view["incident"]["id"]
        if self._update(view, card):
            self.catch_up(skip=incident_id)

    def post_digest(self, week: str, card: dict[str, Any]) -> int:
        """Post `card` as the digest of `week` in each installed channel that has not had it
        (a claim per week and channel: several workers never post it twice); a post that
        fails gives its claim back, so the next cycle tries again. Returns the posts made."""
        sent = 0
        for channel in self.conversations.channels():
            key = f"{week}|{key_of(channel)}"
            if not self._store.claim(DIGESTS, "week", key, {"week": week, "at": iso(utcnow())}):
                continue
            try:
                self.runtime.call(
                    partial(BotEndpoint.create_thread, channel=channel, activity=reply_card(card))
                )
            except (BotRemoved, ConversationNotFound, ConnectorError, TimeoutError) as exc:
                log.warning("the digest of %s could not be posted: %s", week, exc)
                self._store.delete(DIGESTS, "week", key)
                continue
            sent += 1
        return sent

    # -- sending ----------------------------------------------------------------------------
    def _post(self, view: View) -> CardRef | None:
        incident_id = view["incident"]["id"]
        channel = self.conversations.channel()
        if channel is None:
            log.warning("no Teams channel installed yet: incident %s has no card", incident_id)
            return None
        try:
            thread_id, activity_id = self._send_sized(
                view, lambda adapter, activity: adapter.create_thread(channel, activity)
            )
        except (BotRemoved, ConversationNotFound) as exc:
            log.warning("channel unusable (%s): forgetting it; incident %s waits", exc, incident_id)
            self.conversations.forget(channel)
            self._backlog(incident_id, "post", exc)
            return None
        except (ConnectorError, TimeoutError) as exc:
            log.error("posting the card of incident %s failed: %s", incident_id, exc)
            self._backlog(incident_id, "post", exc)
            return None
        self._clear(incident_id)
        return {**channel.in_conversation(thread_id).to_dict(), "activity_id": activity_id}

    def _update(self, view: View, card: CardRef) -> bool:
        incident_id = view["incident"]["id"]
        try:
            thread = ConversationRef.from_dict(card)
            activity_id = card["activity_id"]
        except (KeyError, ValueError) as exc:
            log.warning("incident %s has an unusable card reference: %s", incident_id, exc)
            return False
        try:
            self._send_sized(
                view, lambda adapter, activity: adapter.update(thread, activity_id, activity)
            )
        except BotRemoved as exc:
            log.warning("bot removed from the thread of incident %s: %s", incident_id, exc)
            self.conversations.forget(thread)
            return False
        except ConversationNotFound as exc:
            log.warning("the card of incident %s no longer exists: %s", incident_id, exc)
            return False
        except (ConnectorError, TimeoutError) as exc:
            log.error("updating the card of incident %s failed: %s", incident_id, exc)
            self._backlog(incident_id, "update", exc)
            return False
        self._clear(incident_id)
        return True

    def _send_sized(
        self, view: View, send: Callable[[BotEndpoint, dict[str, Any]], Awaitable[T]]
    ) -> T:
        """Send the full card; if Teams finds it too large, the compact one."""
        try:
            return self.runtime.call(lambda adapter: send(adapter, reply_card(incident_card(view))))
        except MessageTooLarge:
            log.warning(
                "card of incident %s too large, sending the compact card", view["incident"]["id"]
            )
            compact = reply_card(incident_card(view, compact=True))
            return self.runtime.call(lambda adapter: send(adapter, compact))

    # -- backlog ----------------------------------------------------------------------------
    def _backlog(self, incident_id: str, action: str, error: BaseException) -> None:
        data = {
            "incident_id": incident_id,
            "action": action,
            "reason": str(error)[:300],
            "since": iso(utcnow()),
        }
        self._store.upsert(BACKLOG, PARTITION, incident_id, data)

    def _clear(self, incident_id: str) -> None:
        self._store.delete(BACKLOG, PARTITION, incident_id)

    def backlog(self) -> list[dict[str, Any]]:
        return [r.data for r in self._store.query(BACKLOG, PARTITION)]

    def catch_up(self, skip: str | None = None, settle: timedelta = SETTLE) -> int:
        """Re-send backlogged cards and post the missing cards of open incidents."""
        engine = self._engine
        if engine is None:
            return 0
        settled = utcnow() - settle
        waiting = {b["incident_id"] for b in self.backlog()}
        waiting |= {
            i["id"]
            for i in engine.incidents.open_incidents()
            if not i.get("card") and parse_iso(i["first_seen"]) <= settled
        }
        sent = 0
        for incident_id in sorted(waiting - {skip}):
            incident = engine.incidents.get(incident_id)
            if incident is None:
                self._clear(incident_id)
                continue
            view = engine.view(incident_id)
            posted = incident.get("card")
            if posted:
                sent += self._update(view, posted)
            elif incident["status"] == "open":
                card = self._post(view)
                if card is None:
                    break  # the channel is still unusable: keep the rest for later
                engine.incidents.update(incident_id, partial(_with_card, card=card))
                sent += 1
            else:
                self._clear(incident_id)
        return sent


def _with_card(doc: Incident, card: CardRef) -> Incident:
    """The incident with the reference of the card posted for it."""
    return {**doc, "card": card}
