"""The Playground bridge in process: what the Agents Playground sends, signed and relayed to
the real /api/messages (on each bot SDK), and everything else refused before the bot sees it.

The activities are the Playground's own: tests/events/bot/playground_*.json were captured from
@microsoft/m365agentsplayground 0.2.28 driven against `serve --simulate --playground` (only
their serviceUrl is re-pointed here).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.model import invoke_card_response
from devtools.localhost.devchat.app import local_only
from devtools.localhost.playground.bridge import PlaygroundBridge, with_click_trigger
from tests.botkit.activities import sample
from tests.botkit.recorder import CARD, Recorder
from tests.botkit.servers import run_async, serve
from tests.botkit.stack import BotStack, bot_stack

PLAYGROUND_USER = "00000000-0000-0000-0000-00000000d0e5"  # the dev approver, as configured


@web.middleware
async def _from_the_lan(request: web.Request, handler):
    return await handler(request.clone(remote="10.0.0.5"))


@asynccontextmanager
async def bridged(
    sdk: str, bot: Recorder, lan_client: bool = False
) -> AsyncIterator[tuple[BotStack, str]]:
    """The bridge mounted as serve mounts it (behind the dev page's loopback check), in front
    of the real endpoint; its Playground connector is the stack's fake Bot Connector."""
    async with bot_stack(bot, sdk) as stack:
        bridge = PlaygroundBridge(stack.issuer, stack.endpoint, stack.connector.url)
        check: dict[str, Any] = {}

        @web.middleware
        async def as_served(request: web.Request, handler: Any) -> web.StreamResponse:
            return await check["local_only"](request, handler)  # serve's check, this port

        dev = web.Application(middlewares=[as_served])
        dev.add_subapp("/playground", bridge.app())
        root = web.Application(middlewares=[_from_the_lan] if lan_client else [])
        root.add_subapp("/dev", dev)
        async with serve(root) as url:
            check["local_only"] = local_only(int(url.rsplit(":", 1)[1]))
            yield stack, url + "/dev/playground/api/messages"


def playground(name: str, service_url: str, **fields) -> dict:
    return sample(f"playground_{name}", service_url, **fields)


async def _post(url: str, body: dict | bytes) -> tuple[int, dict | None]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


@run_async
async def test_a_card_click_is_signed_and_given_the_click_trigger_teams_sends(sdk):
    bot = Recorder()
    async with bridged(sdk, bot) as (stack, url):
        click = playground("invoke_action_execute", stack.connector.url)
        assert "trigger" not in click["value"]  # what the Playground really sends
        status, body = await _post(url, click)
    assert (status, body) == (200, invoke_card_response(CARD).body)
    [turn] = bot.turns
    assert (turn.verb, turn.trigger, turn.action_data) == (
        "approve", "manual", {"approvalId": "apr-0DxE9Jag3gfjFT1c"}
    )  # fmt: skip
    assert (turn.user_aad_object_id, turn.tenant_id) == (PLAYGROUND_USER, "tenant-test")


@run_async
async def test_a_chat_message_is_relayed_and_answered_on_the_playground_connector(sdk):
    bot = Recorder()
    async with bridged(sdk, bot) as (stack, url):
        message = playground("message_personal", stack.connector.url)
        status, _ = await _post(url, message)
        [reply] = stack.connector.calls
    assert status == 200
    assert (reply.kind, reply.conversation_id) == ("reply", "a:playground-personal-chat")
    assert reply.body["text"] == "echo: why did VM erp-app-03 fail"
    assert bot.turns[0].trigger is None


def test_only_card_actions_without_a_trigger_get_one():
    click = sample("playground_invoke_action_execute")
    assert with_click_trigger(click)["value"]["trigger"] == "manual"
    refresh = {**click, "value": {**click["value"], "trigger": "automatic"}}
    assert with_click_trigger(refresh) == refresh
    other_invoke = {**click, "name": "composeExtension/query"}
    assert with_click_trigger(other_invoke) == other_invoke
    message = sample("playground_message_personal")
    assert with_click_trigger(message) == message


@pytest.mark.parametrize(
    "service_url",
    ["https://smba.trafficmanager.net/emea/", "{connector}/elsewhere", None, 42],
    ids=["teams", "other-path", "missing", "not-a-string"],
)
@run_async
async def test_an_activity_for_another_connector_is_refused_unsigned(service_url, sdk):
    bot = Recorder()
    async with bridged(sdk, bot) as (stack, url):
        click = playground("invoke_action_execute", stack.connector.url)
        if isinstance(service_url, str):
            click["serviceUrl"] = service_url.format(connector=stack.connector.url)
        else:
            click["serviceUrl"] = service_url
        status, body = await _post(url, click)
        assert stack.connector.calls == []
    assert status == 403 and "Playground's connector" in body["reason"]
    assert bot.turns == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"[" * 100_000])
@run_async
async def test_a_body_that_is_no_activity_is_400(raw, sdk):
    bot = Recorder()
    async with bridged(sdk, bot) as (_, url):
        status, body = await _post(url, raw)
    assert status == 400 and body["reason"]
    assert bot.turns == []


@run_async
async def test_clients_off_loopback_are_refused(sdk):
    bot = Recorder()
    async with bridged(sdk, bot, lan_client=True) as (stack, url):
        status, body = await _post(url, playground("invoke_action_execute", stack.connector.url))
    assert status == 403 and "loopback" in body["reason"]
    assert bot.turns == []
