"""The dev team's Teams side in memory: channel threads, the personal chat, and who watches.

Each activity is kept in its latest version (an edit replaces it and bumps `version`); every
change is pushed to the subscribers (the page's event streams) and, with a journal, appended
to it, so a restarted host shows the threads its cards live in. Everything here runs on the
local host's event loop, so no locking is needed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("devtools.localhost.devchat")

Kind = Literal["thread", "chat"]
MESSAGE_ID_MARKER = ";messageid="


class UnknownConversation(LookupError):
    """The conversation or activity does not exist in the dev team."""


@dataclass
class Conversation:
    id: str
    kind: Kind
    activity_ids: list[str] = field(default_factory=list)


class DevChannel:
    """One team with one channel (threads of cards) and one personal chat with the bot."""

    def __init__(
        self,
        team: dict[str, str],
        channel: dict[str, str],
        chat_id: str,
        journal: Path | None = None,
    ) -> None:
        """`journal`: a JSON-lines file of every change; what it holds is loaded first."""
        self.team = team
        self.channel = channel
        self.chat_id = chat_id
        self.installed = False
        self._conversations: dict[str, Conversation] = {chat_id: Conversation(chat_id, "chat")}
        self._activities: dict[str, dict[str, Any]] = {}
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._ids = itertools.count(int(time.time() * 1000))
        self._journal = journal
        if journal is not None and journal.exists():
            self._load(journal)

    def _load(self, journal: Path) -> None:
        """Replay the journal, then rewrite it with each activity's latest version only."""
        for number, line in enumerate(journal.read_text(encoding="utf-8").splitlines(), 1):
            try:
                self._keep(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:  # a line cut short by a crash
                log.warning("%s line %d skipped: %s", journal, number, exc)
        lines = (json.dumps(record) + "\n" for record in self._activities.values())
        journal.write_text("".join(lines), encoding="utf-8")

    @property
    def thread_count(self) -> int:
        return sum(1 for c in self._conversations.values() if c.kind == "thread")

    def new_id(self) -> str:
        """A Teams-like message id (milliseconds since the epoch, never repeated)."""
        return str(next(self._ids))

    # -- writes (from the Bot Connector routes and the page API) ----------------------------

    def new_thread(self, activity: dict[str, Any]) -> dict[str, Any]:
        """A new channel thread whose root message is `activity`."""
        root_id = self.new_id()
        thread_id = f"{self.channel['id']}{MESSAGE_ID_MARKER}{root_id}"
        self._conversations[thread_id] = Conversation(thread_id, "thread")
        return self._add(thread_id, {**activity, "id": root_id})

    def add(self, conversation_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        """A new message in an existing conversation (a reply in a thread or in the chat)."""
        self._conversation(conversation_id)
        return self._add(conversation_id, {**activity, "id": activity.get("id") or self.new_id()})

    def edit(self, conversation_id: str, activity_id: str, activity: dict[str, Any]) -> dict:
        """Replace a message's content in place, as Teams shows an edited bot message."""
        current = self.get(activity_id)
        if current["conversationId"] != conversation_id:
            raise UnknownConversation(f"activity {activity_id} is not in {conversation_id}")
        edited = {
            **current,
            "text": activity.get("text"),
            "attachments": activity.get("attachments") or [],
            "version": current["version"] + 1,
            "edited": _now(),
        }
        self._activities[activity_id] = edited
        self._publish(edited)
        return edited

    def _add(self, conversation_id: str, activity: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversations[conversation_id]
        sender = activity.get("from") or {}
        record = {
            "id": activity["id"],
            "conversationId": conversation_id,
            "kind": conversation.kind,
            "replyToId": activity.get("replyToId"),
            "from": {"id": sender.get("id"), "name": sender.get("name")},
            "fromBot": str(sender.get("id", "")).startswith("28:"),
            "text": activity.get("text"),
            "attachments": activity.get("attachments") or [],
            "timestamp": _now(),
            "version": 1,
        }
        self._keep(record)
        self._publish(record)
        return record

    def _keep(self, record: dict[str, Any]) -> None:
        """Hold `record`, new or a later version of one held, in its conversation."""
        conversation_id = record["conversationId"]
        conversation = self._conversations.setdefault(
            conversation_id, Conversation(conversation_id, record["kind"])
        )
        if record["id"] not in self._activities:
            conversation.activity_ids.append(record["id"])
        self._activities[record["id"]] = record

    # -- reads --------------------------------------------------------------------------------

    def get(self, activity_id: str) -> dict[str, Any]:
        try:
            return self._activities[activity_id]
        except KeyError:
            raise UnknownConversation(f"no activity {activity_id}") from None

    def _conversation(self, conversation_id: str) -> Conversation:
        try:
            return self._conversations[conversation_id]
        except KeyError:
            raise UnknownConversation(f"no conversation {conversation_id}") from None

    def replies_to(self, conversation_id: str, activity_id: str) -> list[dict[str, Any]]:
        conversation = self._conversation(conversation_id)
        found = (self._activities[i] for i in conversation.activity_ids)
        return [a for a in found if a["replyToId"] == activity_id and a["id"] != activity_id]

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows: the threads (oldest first) and the chat."""
        threads = [
            {
                "id": c.id,
                "rootId": c.activity_ids[0],
                "activities": [self._activities[i] for i in c.activity_ids],
            }
            for c in self._conversations.values()
            if c.kind == "thread"
        ]
        chat = self._conversations[self.chat_id]
        return {
            "team": self.team,
            "channel": self.channel,
            "installed": self.installed,
            "threads": threads,
            "chat": [self._activities[i] for i in chat.activity_ids],
        }

    # -- subscribers --------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self._subscribers.discard(queue)

    def close_subscribers(self) -> None:
        """End every event stream (the host is shutting down)."""
        for queue in self._subscribers:
            queue.put_nowait(None)

    def _publish(self, record: dict[str, Any]) -> None:
        if self._journal is not None:
            with self._journal.open("a", encoding="utf-8") as journal:
                journal.write(json.dumps(record) + "\n")
        for queue in self._subscribers:
            queue.put_nowait(record)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
