"""The neutral bot model: what the app's bot logic sees and returns, with no SDK types.

A `Turn` is one inbound activity reduced to the fields the app uses; a `ConversationRef` is the
address kept in the store for proactive posts; replies are plain Bot Framework activity dicts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, Protocol

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
INVOKE_CARD_TYPE = "application/vnd.microsoft.card.adaptive"
INVOKE_MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
INVOKE_ERROR_TYPE = "application/vnd.microsoft.error"

TurnKind = Literal["message", "invoke", "installation", "conversation_update", "other"]
InstallAction = Literal["add", "remove", "upgrade"]


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where the bot can post: a Teams team/channel or chat, as learnt from an inbound activity."""

    service_url: str
    conversation_id: str
    bot_id: str
    channel_id: str = "msteams"  # the Bot Framework channel, not a Teams channel
    tenant_id: str | None = None
    conversation_type: str | None = None
    team_id: str | None = None
    teams_channel_id: str | None = None
    bot_name: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationRef:
        """Rebuild a stored reference; unknown keys are ignored, missing required ones rejected."""
        known = {f.name for f in fields(cls)}
        missing = [k for k in ("service_url", "conversation_id", "bot_id") if not data.get(k)]
        if missing:
            raise ValueError(f"conversation reference lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def in_conversation(self, conversation_id: str) -> ConversationRef:
        """The same address pointed at another conversation, e.g. a thread made by create_thread."""
        return replace(self, conversation_id=conversation_id)


@dataclass(frozen=True, slots=True)
class InvokeResponse:
    """The HTTP answer to an invoke activity (Action.Execute): status and JSON body."""

    status: int
    body: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class HttpResult:
    """What the HTTP glue (Functions or aiohttp) must answer: status and optional JSON body."""

    status: int
    body: dict[str, Any] | None = None


class TurnIO(Protocol):
    """Sending within a turn; implemented by the SDK adapter."""

    async def send(self, activity: dict[str, Any]) -> str: ...

    async def update(self, activity_id: str, activity: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class Turn:
    """One inbound activity as the app's bot logic needs it.

    `text` has the bot's own @mention removed. For invokes, `verb`/`action_data`/`trigger` come
    from `value.action` and `value.trigger`; `reply_to_id` is the id of the clicked card message.
    For installations `install_action` is add, remove, or upgrade (keep the reference).
    """

    kind: TurnKind
    activity_type: str
    reference: ConversationRef
    activity_id: str | None = None
    text: str = ""
    user_id: str | None = None
    user_name: str | None = None
    user_aad_object_id: str | None = None
    invoke_name: str | None = None
    verb: str | None = None
    action_data: dict[str, Any] = field(default_factory=dict)
    trigger: str | None = None
    reply_to_id: str | None = None
    install_action: InstallAction | None = None
    event_type: str | None = None
    value: Any = None
    locale: str | None = None  # the sender's Teams locale, e.g. fr-FR
    local_timezone: str | None = None  # the sender's IANA time zone, e.g. Europe/Paris
    io: TurnIO | None = field(default=None, repr=False, compare=False)

    @property
    def tenant_id(self) -> str | None:
        return self.reference.tenant_id

    @property
    def conversation_id(self) -> str:
        return self.reference.conversation_id

    @property
    def conversation_type(self) -> str | None:
        return self.reference.conversation_type

    @property
    def team_id(self) -> str | None:
        return self.reference.team_id

    @property
    def teams_channel_id(self) -> str | None:
        return self.reference.teams_channel_id

    @property
    def service_url(self) -> str:
        return self.reference.service_url

    async def send(self, activity: dict[str, Any]) -> str:
        """Reply in this conversation (threaded under the inbound activity); returns the new id."""
        return await self._io().send(activity)

    async def update(self, activity_id: str, activity: dict[str, Any]) -> None:
        """Edit a message the bot posted in this conversation, e.g. the clicked card for all."""
        await self._io().update(activity_id, activity)

    def _io(self) -> TurnIO:
        if self.io is None:
            raise RuntimeError("this turn is detached from a conversation and cannot send")
        return self.io


Handler = Callable[[Turn], Awaitable[InvokeResponse | None]]


def reply_text(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text}


def reply_card(card: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }
    if text:
        activity["text"] = text
    return activity


def invoke_card_response(card: dict[str, Any]) -> InvokeResponse:
    """Replace the clicked card (for the clicking user) with `card`."""
    return InvokeResponse(200, {"statusCode": 200, "type": INVOKE_CARD_TYPE, "value": card})


def invoke_message_response(text: str) -> InvokeResponse:
    """Show `text` as a transient message to the clicking user; the card stays."""
    return InvokeResponse(200, {"statusCode": 200, "type": INVOKE_MESSAGE_TYPE, "value": text})


def invoke_error_response(status_code: int, code: str, message: str) -> InvokeResponse:
    """Tell the client the action failed (HTTP 200 with the error inside, as Teams expects)."""
    body = {
        "statusCode": status_code,
        "type": INVOKE_ERROR_TYPE,
        "value": {"code": code, "message": message},
    }
    return InvokeResponse(200, body)
