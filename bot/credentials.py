"""Outgoing bot token: adapt any azure-core TokenCredential to the connector's TokenProvider.

In Azure the credential is msal-backed (the user-assigned managed identity whose client id is
BOT_APP_ID, or client credentials for a SingleTenant app in `BotSettings.token_tenant`);
the credential caches tokens, and the sync call runs off the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.connector import TokenProvider
from bot.settings import BOT_FRAMEWORK_SCOPE


class _AccessToken(Protocol):
    @property
    def token(self) -> str: ...  # read-only, as azure-core's AccessToken (a NamedTuple) has it


class SyncTokenCredential(Protocol):
    def get_token(self, *scopes: str) -> _AccessToken: ...


def token_provider(
    credential: SyncTokenCredential, scope: str = BOT_FRAMEWORK_SCOPE
) -> TokenProvider:
    async def provide() -> str:
        return (await asyncio.to_thread(credential.get_token, scope)).token

    return provide
