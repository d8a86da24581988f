"""The Bot Framework endpoint and proactive posts, the same whichever SDK runs the turn.

Authentication (`bot.auth`), the Bot Connector client (`bot.connector`) and activity parsing
(`bot.activity`) are SDK-free, and so is everything here. A bot SDK only runs the turn: it
turns the inbound activity into its TurnContext, runs its middleware pipeline, and hands the
neutral `Turn` to the app's handler (`bot.sdk`). BOT_SDK picks the SDK: `bot.adapter`
(botbuilder-core, the default) or `bot.agents_adapter` (Microsoft 365 Agents SDK); only the
chosen one is imported.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import sdk
from bot.activity import BadActivity, parse_activity
from bot.auth import AuthError, AuthUnavailable, BotFrameworkAuthenticator, OpenIdKeys
from bot.connector import ConnectorClient, ConnectorError, RetryPolicy, TokenProvider
from bot.model import ConversationRef, Handler, HttpResult
from bot.settings import BotSettings

log = logging.getLogger(__name__)

MESSAGE_ID_MARKER = ";messageid="


class BotEndpoint:
    """Bot Framework endpoint logic and proactive posting, behind framework-neutral calls.

    `process` is what an HTTP trigger calls with the raw body and Authorization header;
    `create_thread`/`send`/`update` post proactively from timers and queue workers.
    """

    def __init__(
        self,
        settings: BotSettings,
        token_provider: TokenProvider,
        retry: RetryPolicy | None = None,
        keys: OpenIdKeys | None = None,
    ) -> None:
        self._authenticator = BotFrameworkAuthenticator(
            settings.app_id, keys or OpenIdKeys(settings.openid_metadata_url)
        )
        self._connector = ConnectorClient(token_provider, retry)
        self.sdk = sdk.load(settings.sdk)
        self._bridge = self.sdk.bridge(self._connector, self.sdk)

    async def close(self) -> None:
        await self._connector.close()

    # -- inbound ------------------------------------------------------------------------------

    async def process(self, body: bytes, auth_header: str | None, handler: Handler) -> HttpResult:
        try:
            payload = parse_activity(body)
            activity = self.sdk.to_sdk(payload)
        except BadActivity as exc:
            return HttpResult(400, {"error": "BadRequest", "reason": str(exc)})
        try:
            await self._authenticator.authenticate(
                auth_header, payload["channelId"], payload["serviceUrl"]
            )
        except AuthError as exc:
            log.warning("rejected Bot Framework request: %s", exc.reason)
            return HttpResult(401, {"error": "Unauthorized", "reason": exc.reason})
        except AuthUnavailable as exc:
            log.error("%s", exc)
            return HttpResult(503, {"error": "ServiceUnavailable", "reason": str(exc)})
        try:
            response = await self._bridge.run_turn(activity, handler)
        except ConnectorError as exc:
            log.error("bot turn could not answer through the Bot Connector: %s", exc)
            return HttpResult(502, {"error": "BadGateway", "reason": str(exc)})
        except Exception:
            log.exception("bot turn failed for a %s activity", payload["type"])
            return HttpResult(500, {"error": "InternalServerError", "reason": "bot turn failed"})
        if payload["type"] != "invoke":
            return HttpResult(200)
        if response is None:
            return HttpResult(501, {"error": "NotImplemented", "reason": "no invoke response"})
        return HttpResult(response.status, response.body)

    # -- proactive ----------------------------------------------------------------------------

    async def create_thread(
        self, channel: ConversationRef, activity: dict[str, Any]
    ) -> tuple[str, str]:
        """Start a new thread in the Teams channel of `channel` (its team's General if unset).

        Returns the thread's conversation id (`...;messageid=<root>`) and the root activity id:
        keep both, `update` needs them to edit the card later.
        """
        teams_channel = channel.teams_channel_id or channel.team_id
        if not teams_channel:
            raise ValueError("the reference names no Teams channel or team to post in")
        params = {
            "isGroup": True,
            "channelData": {"channel": {"id": teams_channel}},
            "activity": self._outgoing(channel, activity, with_conversation=False),
        }
        created = await self._connector.create_conversation(channel.service_url, params)
        conversation_id = created.get("id")
        if not conversation_id:
            raise ConnectorError(201, None, "create conversation answered without an id")
        activity_id = created.get("activityId") or conversation_id.partition(MESSAGE_ID_MARKER)[2]
        return conversation_id, activity_id

    async def send(self, conversation: ConversationRef, activity: dict[str, Any]) -> str:
        """Post into an existing conversation (a thread: `ref.in_conversation(thread_id)`)."""
        sent = await self._connector.send(
            conversation.service_url,
            conversation.conversation_id,
            self._outgoing(conversation, activity),
        )
        return sent.get("id", "")

    async def update(
        self, conversation: ConversationRef, activity_id: str, activity: dict[str, Any]
    ) -> None:
        """Edit a posted message in place (the card everyone sees)."""
        await self._connector.update(
            conversation.service_url,
            conversation.conversation_id,
            activity_id,
            self._outgoing(conversation, activity),
        )

    @staticmethod
    def _outgoing(
        ref: ConversationRef, activity: dict[str, Any], with_conversation: bool = True
    ) -> dict[str, Any]:
        """The activity as the bot sends it: a message from the bot, addressed when known."""
        sender = {"id": ref.bot_id, **({"name": ref.bot_name} if ref.bot_name else {})}
        outgoing = {"type": "message", **activity, "from": sender}
        if with_conversation:
            outgoing["conversation"] = {"id": ref.conversation_id}
        return outgoing
