"""botbuilder-core 4.17.1 as the turn pipeline (BOT_SDK=botbuilder, the default).

botbuilder is archived upstream and its support ended on 2025-12-31; `bot.agents_adapter` runs
the same turns on the Microsoft 365 Agents SDK. Only the SDK's types and the JSON conversions
live here; the glue is `bot.sdk`, authentication and proactive posts are `bot.endpoint`. It
avoids botbuilder's aiohttp CloudAdapter, which answers HTTP 500 to every Action.Execute card
response.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core import InvokeResponse as SdkInvokeResponse
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from msrest.exceptions import DeserializationError

from bot.activity import BadActivity
from bot.model import Handler, InvokeResponse
from bot.sdk import ConnectorBridge, Sdk, as_turn_logic

_RAW = "_bot_wire_json"
# Set by the SDK when it addresses an outgoing activity; everything else comes from our JSON.
_ADDRESSING = frozenset(
    {"id", "from", "recipient", "conversation", "serviceUrl", "channelId", "replyToId"}
)


def _to_sdk(activity: dict[str, Any]) -> Activity:
    """SDK Activity that remembers its JSON: msrest drops fields it has no model for (e.g.
    mention entities' `mentioned`/`text`), so the JSON travels along (deepcopy keeps it)."""
    try:
        sdk_activity = Activity().deserialize(activity)
    except DeserializationError as exc:
        reason = f"activity does not fit the Bot Framework schema: {str(exc)[:160]}"
        raise BadActivity(reason) from exc
    setattr(sdk_activity, _RAW, activity)
    return sdk_activity


def _to_wire(activity: Activity) -> dict[str, Any]:
    wire = activity.serialize()
    for key, value in getattr(activity, _RAW, {}).items():
        if key not in _ADDRESSING:
            wire[key] = value
    return wire


def _invoke_activity(response: InvokeResponse) -> Activity:
    value = SdkInvokeResponse(status=response.status, body=response.body)
    return Activity(type=ActivityTypes.invoke_response, value=value)


class _Bridge(ConnectorBridge, BotAdapter):
    invoke_response_key = BotAdapter._INVOKE_RESPONSE_KEY


SDK = Sdk(
    name="botbuilder",
    turn_context=TurnContext,
    bridge=_Bridge,
    to_sdk=_to_sdk,
    to_wire=_to_wire,
    invoke_activity=_invoke_activity,
    resource_response=lambda activity_id: ResourceResponse(id=activity_id),
)


def turn_logic(handler: Handler):
    """The app handler as botbuilder turn logic, e.g. for botbuilder's TestAdapter."""
    return as_turn_logic(SDK, handler)
