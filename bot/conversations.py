"""Where the bot may post: conversation references kept in the store at install time.

Teams only lets a bot post where it is installed, so the reference (service URL, tenant,
team, channel, bot id) is recorded on installationUpdate add/upgrade or a conversationUpdate
that adds the bot, and forgotten on removal or when the Bot Connector says the bot is gone.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from bot.model import ConversationRef
from remediation.clock import iso, utcnow
from remediation.store import Store

log = logging.getLogger(__name__)

TABLE = "conversations"
PARTITION = "ref"
_THREAD_MARKER = ";messageid="


def _base(conversation_id: str) -> str:
    """A channel thread's id without its root message: the channel itself."""
    return conversation_id.partition(_THREAD_MARKER)[0]


def key_of(ref: ConversationRef) -> str:
    """A conversation's store key: its channel's id, hashed (a thread counts as its channel)."""
    return _key(ref)


def _key(ref: ConversationRef) -> str:
    return hashlib.sha256(_base(ref.conversation_id).lower().encode()).hexdigest()[:32]


class Conversations:
    def __init__(self, store: Store) -> None:
        self._store = store

    def remember(self, ref: ConversationRef) -> None:
        """Store (or refresh) where the bot was installed."""
        ref = ref.in_conversation(_base(ref.conversation_id))
        data = {**ref.to_dict(), "installed": iso(utcnow())}
        self._store.upsert(TABLE, PARTITION, _key(ref), data)
        log.info("bot installed in %s conversation %s", ref.conversation_type, _key(ref))

    def forget(self, ref: ConversationRef) -> int:
        """Drop the conversation, and every channel of the team when it names one."""
        gone = [
            r
            for r in self._store.query(TABLE, PARTITION)
            if r.key == _key(ref) or (ref.team_id and r.data.get("team_id") == ref.team_id)
        ]
        for record in gone:
            self._store.delete(TABLE, PARTITION, record.key)
        log.info("forgot %d conversation reference(s)", len(gone))
        return len(gone)

    def all(self) -> list[ConversationRef]:
        return [_ref(r.data) for r in self._newest_first()]

    def channel(self) -> ConversationRef | None:
        """The team channel installed most recently: where incident threads start."""
        return next(iter(self.channels()), None)

    def channels(self) -> list[ConversationRef]:
        """Every team channel the bot is installed in, newest first."""
        return [
            _ref(r.data)
            for r in self._newest_first()
            if r.data.get("teams_channel_id") or r.data.get("team_id")
        ]

    def _newest_first(self):
        records = self._store.query(TABLE, PARTITION)
        return sorted(records, key=lambda r: r.data.get("installed") or "", reverse=True)


def _ref(data: dict[str, Any]) -> ConversationRef:
    return ConversationRef.from_dict(data)
