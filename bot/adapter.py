"""The one module that knows the bot SDK (botbuilder-core 4.17.1, archived upstream).

It runs inbound activities through botbuilder's TurnContext and middleware pipeline and turns
them into the neutral `Turn` for the app's handler. Authentication (`bot.auth`), the Bot
Connector client (`bot.connector`) and activity parsing (`bot.activity`) are SDK-free, so a
move to the Teams SDK replaces this file only. It deliberately avoids botbuilder's aiohttp
CloudAdapter, which answers HTTP 500 to every Action.Execute card response.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core import InvokeResponse as SdkInvokeResponse
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ConversationReference,
    ResourceResponse,
)
from msrest.exceptions import DeserializationError

from bot.activity import BadActivity, parse_activity, turn_from_activity
from bot.auth import AuthError, AuthUnavailable, BotFrameworkAuthenticator, OpenIdKeys
from bot.connector import ConnectorClient, ConnectorError, RetryPolicy, TokenProvider
from bot.model import ConversationRef, Handler, HttpResult
from bot.settings import BotSettings

log = logging.getLogger(__name__)

_MESSAGE_ID_MARKER = ";messageid="
_RAW = "_bot_wire_json"
# Set by the SDK when it addresses an outgoing activity; everything else comes from our JSON.
_ADDRESSING = frozenset(
    {"id", "from", "recipient", "conversation", "serviceUrl", "channelId", "replyToId"}
)


def _to_sdk(activity: dict[str, Any]) -> Activity:
    """SDK Activity that remembers its JSON: msrest drops fields it has no model for (e.g.
    mention entities' `mentioned`/`text`), so the JSON travels along (deepcopy keeps it)."""
    sdk_activity = Activity().deserialize(activity)
    setattr(sdk_activity, _RAW, activity)
    return sdk_activity


def _to_wire(activity: Activity) -> dict[str, Any]:
    wire = activity.serialize()
    for key, value in getattr(activity, _RAW, {}).items():
        if key not in _ADDRESSING:
            wire[key] = value
    return wire


class _ContextIO:
    """`TurnIO` over a botbuilder TurnContext, so replies get the SDK's addressing."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context

    async def send(self, activity: dict[str, Any]) -> str:
        response = await self._context.send_activity(_to_sdk(activity))
        return (response.id if response else None) or ""

    async def update(self, activity_id: str, activity: dict[str, Any]) -> None:
        edited = _to_sdk(activity)
        edited.id = activity_id
        await self._context.update_activity(edited)


def as_turn_logic(handler: Handler):
    """Wrap an app handler as botbuilder turn logic (also usable with botbuilder's TestAdapter)."""

    async def logic(context: TurnContext) -> None:
        turn = replace(turn_from_activity(_to_wire(context.activity)), io=_ContextIO(context))
        result = await handler(turn)
        if result is not None:
            invoke_response = SdkInvokeResponse(status=result.status, body=result.body)
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=invoke_response)
            )

    return logic


class _SdkBridge(BotAdapter):
    """botbuilder's BotAdapter whose outgoing calls go through our ConnectorClient."""

    def __init__(self, connector: ConnectorClient) -> None:
        super().__init__()
        self._connector = connector

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse())
                continue
            body = _to_wire(activity)
            conversation_id = activity.conversation.id
            if activity.reply_to_id:
                sent = await self._connector.reply(
                    activity.service_url, conversation_id, activity.reply_to_id, body
                )
            else:
                sent = await self._connector.send(activity.service_url, conversation_id, body)
            responses.append(ResourceResponse(id=sent.get("id")))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        await self._connector.update(
            activity.service_url, activity.conversation.id, activity.id, _to_wire(activity)
        )
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: ConversationReference) -> None:
        await self._connector.delete(
            reference.service_url, reference.conversation.id, reference.activity_id
        )


class TeamsBotAdapter:
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
        self._sdk = _SdkBridge(self._connector)

    async def close(self) -> None:
        await self._connector.close()

    async def process(self, body: bytes, auth_header: str | None, handler: Handler) -> HttpResult:
        try:
            payload = parse_activity(body)
            activity = _to_sdk(payload)
        except BadActivity as exc:
            return HttpResult(400, {"error": "BadRequest", "reason": str(exc)})
        except DeserializationError as exc:
            reason = f"activity does not fit the Bot Framework schema: {str(exc)[:160]}"
            return HttpResult(400, {"error": "BadRequest", "reason": reason})
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
        context = TurnContext(self._sdk, activity)
        try:
            await self._sdk.run_pipeline(context, as_turn_logic(handler))
        except ConnectorError as exc:
            log.error("bot turn could not answer through the Bot Connector: %s", exc)
            return HttpResult(502, {"error": "BadGateway", "reason": str(exc)})
        except Exception:
            log.exception("bot turn failed for a %s activity", payload["type"])
            return HttpResult(500, {"error": "InternalServerError", "reason": "bot turn failed"})
        return self._http_result(context, payload["type"])

    def _http_result(self, context: TurnContext, activity_type: str) -> HttpResult:
        if activity_type != ActivityTypes.invoke:
            return HttpResult(200)
        sent = context.turn_state.get(self._sdk._INVOKE_RESPONSE_KEY)
        if sent is None:
            return HttpResult(501, {"error": "NotImplemented", "reason": "no invoke response"})
        return HttpResult(sent.value.status, sent.value.body)

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
        activity_id = created.get("activityId") or conversation_id.partition(_MESSAGE_ID_MARKER)[2]
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
