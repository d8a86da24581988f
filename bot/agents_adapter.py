"""The Microsoft 365 Agents SDK as the turn pipeline (BOT_SDK=agents).

microsoft-agents-hosting-core and microsoft-agents-activity (1.9) are Microsoft's maintained
successors of botbuilder-core and botframework-schema (GA since 1.0.0, May 2026). Only the
SDK's types and the JSON conversions live here; the glue is `bot.sdk`, authentication and
proactive posts are `bot.endpoint`, as with botbuilder in `bot.adapter`. The SDK's CloudAdapter
and JWT middleware are not used (`bot.auth` validates every request; our ConnectorClient sends,
with typed errors and Retry-After), nor its Teams packages: the wire protocol is the Bot
Connector's, and microsoft-agents-hosting-msteams would bring msgraph-sdk (~400 MB) with it.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, ResourceResponse
from microsoft_agents.activity import InvokeResponse as SdkInvokeResponse
from microsoft_agents.hosting.core import ChannelAdapter, TurnContext
from pydantic import ValidationError

from bot.activity import BadActivity
from bot.model import InvokeResponse
from bot.sdk import ConnectorBridge, Sdk


def _to_sdk(activity: dict[str, Any]) -> Activity:
    # A null field is an absent one in the Bot Framework schema (its C# models ignore nulls);
    # the pydantic models would refuse e.g. `"membersAdded": null`.
    present = {key: value for key, value in activity.items() if value is not None}
    try:
        return Activity.model_validate(present)
    except ValidationError as exc:
        reason = f"activity does not fit the Bot Framework schema: {str(exc)[:160]}"
        raise BadActivity(reason) from exc


def _to_wire(activity: Activity) -> dict[str, Any]:
    # The pydantic models keep what they do not name (mention entities, channelData, cards).
    return activity.model_dump(mode="json", by_alias=True, exclude_none=True)


def _invoke_activity(response: InvokeResponse) -> Activity:
    value = SdkInvokeResponse(status=response.status, body=response.body)
    return Activity(type=ActivityTypes.invoke_response, value=value)


def _resource_response(activity_id: str | None) -> ResourceResponse:
    # Its id, when given, must be a non-empty string; an invoke response has none.
    return ResourceResponse(id=activity_id) if activity_id else ResourceResponse()


class _Bridge(ConnectorBridge, ChannelAdapter):
    invoke_response_key = ChannelAdapter.INVOKE_RESPONSE_KEY


SDK = Sdk(
    name="agents",
    turn_context=TurnContext,
    bridge=_Bridge,
    to_sdk=_to_sdk,
    to_wire=_to_wire,
    invoke_activity=_invoke_activity,
    resource_response=_resource_response,
)
