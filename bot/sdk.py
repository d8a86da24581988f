"""The turn glue both bot SDKs share, written once over what each SDK module supplies.

botbuilder-core and the Microsoft 365 Agents SDK have the same shape: a TurnContext with
`send_activity`/`update_activity`/`turn_state`, an adapter base class whose
`send_activities`/`update_activity`/`delete_activity` do the sending and whose `run_pipeline`
runs the middleware, and an `invokeResponse` activity that carries the HTTP answer to an
invoke. An SDK module (`bot.adapter`, `bot.agents_adapter`) supplies an `Sdk`: its types and
its conversions between activity JSON and its models. Nothing here imports an SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.activity import turn_from_activity
from bot.connector import ConnectorClient
from bot.model import Handler, InvokeResponse

MODULES = {"botbuilder": "bot.adapter", "agents": "bot.agents_adapter"}


@dataclass(frozen=True, slots=True)
class Sdk:
    """One SDK's parts. `to_sdk` raises BadActivity for JSON its schema refuses."""

    name: str
    turn_context: Callable[[Any, Any], Any]  # (adapter, activity) -> TurnContext
    bridge: Callable[[ConnectorClient, Sdk], ConnectorBridge]
    to_sdk: Callable[[dict[str, Any]], Any]
    to_wire: Callable[[Any], dict[str, Any]]
    invoke_activity: Callable[[InvokeResponse], Any]  # the SDK's invokeResponse activity
    resource_response: Callable[[str | None], Any]


def load(name: str) -> Sdk:
    """The SDK that BOT_SDK names; only its module (and so only that SDK) is imported."""
    return importlib.import_module(MODULES[name]).SDK


class ContextIO:
    """`TurnIO` over an SDK's TurnContext, so replies get the SDK's addressing."""

    def __init__(self, sdk: Sdk, context: Any) -> None:
        self._sdk = sdk
        self._context = context

    async def send(self, activity: dict[str, Any]) -> str:
        response = await self._context.send_activity(self._sdk.to_sdk(activity))
        return (response.id if response else None) or ""

    async def update(self, activity_id: str, activity: dict[str, Any]) -> None:
        await self._context.update_activity(self._sdk.to_sdk({**activity, "id": activity_id}))


def as_turn_logic(sdk: Sdk, handler: Handler) -> Callable[[Any], Any]:
    """Wrap an app handler as the SDK's turn logic (also what its TestAdapter runs)."""

    async def logic(context: Any) -> None:
        turn = turn_from_activity(sdk.to_wire(context.activity))
        result = await handler(replace(turn, io=ContextIO(sdk, context)))
        if result is not None:
            await context.send_activity(sdk.invoke_activity(result))

    return logic


class ConnectorBridge:
    """The sending half of an SDK adapter, over our ConnectorClient; an SDK module mixes it
    into the SDK's adapter base class and names the turn_state key of the invoke response."""

    invoke_response_key: str

    if TYPE_CHECKING:  # the SDK adapter's, which the mixed class inherits

        async def run_pipeline(self, context: Any, callback: Any = None) -> Any: ...

    def __init__(self, connector: ConnectorClient, sdk: Sdk) -> None:
        super().__init__()
        self._connector = connector
        self._sdk = sdk

    async def send_activities(self, context: Any, activities: list[Any]) -> list[Any]:
        responses = []
        for activity in activities:
            if activity.type == "invokeResponse":  # the HTTP answer, kept for the endpoint
                context.turn_state[self.invoke_response_key] = activity
                responses.append(self._sdk.resource_response(None))
                continue
            body = self._sdk.to_wire(activity)
            service_url, conversation_id = activity.service_url, activity.conversation.id
            if activity.reply_to_id:
                sent = await self._connector.reply(
                    service_url, conversation_id, activity.reply_to_id, body
                )
            else:
                sent = await self._connector.send(service_url, conversation_id, body)
            responses.append(self._sdk.resource_response(sent.get("id")))
        return responses

    async def update_activity(self, context: Any, activity: Any) -> Any:
        await self._connector.update(
            activity.service_url, activity.conversation.id, activity.id, self._sdk.to_wire(activity)
        )
        return self._sdk.resource_response(activity.id)

    async def delete_activity(self, context: Any, reference: Any) -> None:
        await self._connector.delete(
            reference.service_url, reference.conversation.id, reference.activity_id
        )

    async def run_turn(self, activity: Any, handler: Handler) -> InvokeResponse | None:
        """Run `handler` through the SDK's pipeline; the invoke response it sent, if any."""
        context = self._sdk.turn_context(self, activity)
        await self.run_pipeline(context, as_turn_logic(self._sdk, handler))
        sent = context.turn_state.get(self.invoke_response_key)
        return None if sent is None else InvokeResponse(sent.value.status, sent.value.body)
