"""The runtime Bot Framework issuer on its own loopback server, with test switches.

The bot under test points BOT_OPENID_METADATA_URL at `TokenIssuer.metadata_url`; `mint()`
produces what the Bot Connector sends, with switches for every way a token can be wrong.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.auth import BOT_FRAMEWORK_ISSUER
from devtools.localhost.devchat.botframework import BotFrameworkIssuer, new_key
from tests.botkit.servers import serve


@functools.cache
def _key(slot: int) -> rsa.RSAPrivateKey:
    """RSA keys made once per test session (slot 0 is published, slot 1 never is)."""
    del slot
    return new_key()


class TokenIssuer(BotFrameworkIssuer):
    """The issuer with a session-wide key, a metadata request counter and token switches."""

    def __init__(self, app_id: str, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        super().__init__(app_id, endorsements=endorsements, key=_key(0))
        self.metadata_requests = 0

    def mint(
        self,
        service_url: str,
        *,
        audience: str | None = None,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        expired: bool = False,
        wrong_key: bool = False,
        kid: str | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A signed token as the Bot Connector sends it; the switches make it invalid."""
        wrong: dict[str, Any] = {"iss": issuer}
        if audience is not None:
            wrong["aud"] = audience
        if expired:
            wrong |= {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200}
        return super().mint(
            service_url,
            claims={**wrong, **(claims or {})},
            key=_key(1) if wrong_key else None,  # slot 1 is never published
            kid=kid,
        )

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        return await super()._metadata(request)

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(self.routes())
        return app


@asynccontextmanager
async def running_issuer(app_id: str) -> AsyncIterator[TokenIssuer]:
    issuer = TokenIssuer(app_id)
    async with serve(issuer.app()) as url:
        issuer.url = url
        yield issuer
