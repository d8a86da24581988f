"""Everything a protocol test needs, started together on loopback and torn down after.

async with bot_stack(handler) as stack:
    status, body = await stack.post(sample("message_channel", stack.connector.url))
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.connector import RetryPolicy
from bot.endpoint import BotEndpoint
from bot.model import INVOKE_CARD_TYPE, Handler
from bot.settings import BotSettings, SdkName
from tests.botkit.activities import BOT_APP_ID
from tests.botkit.connector import FakeConnector, running_connector
from tests.botkit.host import messages_app
from tests.botkit.servers import serve
from tests.botkit.tokens import TokenIssuer, running_issuer

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
TENANT_ID = "72f988bf-0000-4000-8000-000000000001"


def settings_for(metadata_url: str, sdk: SdkName = "botbuilder") -> BotSettings:
    return BotSettings(
        app_id=BOT_APP_ID,
        app_type="SingleTenant",
        tenant_id=TENANT_ID,
        openid_metadata_url=metadata_url,
        sdk=sdk,
    )


@dataclass
class BotStack:
    issuer: TokenIssuer
    connector: FakeConnector
    adapter: BotEndpoint
    endpoint: str

    async def post(
        self, body: dict[str, Any] | bytes, auth: str | bool | None = True
    ) -> tuple[int, Any]:
        """POST to /api/messages; `auth=True` signs a valid token for the body's serviceUrl."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if auth is True:
            auth = self.issuer.header(body["serviceUrl"]) if isinstance(body, dict) else None
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.endpoint, data=raw, headers=headers) as resp,
        ):
            text = await resp.text()
            answer = json.loads(text) if text else None
        if isinstance(answer, dict) and answer.get("type") == INVOKE_CARD_TYPE:
            self.connector.check_card(answer.get("value"))  # the card the client shows
        return resp.status, answer


@asynccontextmanager
async def bot_stack(
    handler: Handler, sdk: SdkName = "botbuilder", retry: RetryPolicy = FAST_RETRY
) -> AsyncIterator[BotStack]:
    """The endpoint on `sdk` with `handler`, a token issuer and a fake Bot Connector."""
    async with running_issuer(BOT_APP_ID) as issuer, running_connector() as connector:
        adapter = BotEndpoint(
            settings_for(issuer.metadata_url, sdk), connector.token_provider, retry=retry
        )
        try:
            async with serve(messages_app(adapter, handler)) as url:
                yield BotStack(issuer, connector, adapter, url + "/api/messages")
        finally:
            await adapter.close()
