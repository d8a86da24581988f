"""A Bot Framework-shaped token issuer: RSA key, OpenID metadata + JWKS server, token minting.

The bot under test points BOT_OPENID_METADATA_URL at `TokenIssuer.metadata_url`; `mint()`
produces what the Bot Connector sends, with switches for every way a token can be wrong.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.botkit.servers import serve

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"


@functools.cache
def _key(slot: int) -> rsa.RSAPrivateKey:
    """RSA keys made once per test session (slot 0 is published, slot 1 never is)."""
    del slot
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TokenIssuer:
    """Signs tokens with a key published in its JWKS (endorsed for `endorsements`)."""

    def __init__(self, app_id: str, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.app_id = app_id
        self.endorsements = endorsements
        self.kid = uuid.uuid4().hex
        self._key = _key(0)
        self._stranger = _key(1)  # never published: "bad signature" tokens
        self.url = ""
        self.metadata_requests = 0

    @property
    def metadata_url(self) -> str:
        return self.url + METADATA_PATH

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256", endorsements=list(self.endorsements))
        return {"keys": [jwk]}

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
        now = int(time.time())
        exp = now - 3600 if expired else now + 3600
        payload = {
            "iss": issuer,
            "aud": audience if audience is not None else self.app_id,
            "serviceurl": service_url,
            "nbf": exp - 7200,
            "exp": exp,
            **(claims or {}),
        }
        key = self._stranger if wrong_key else self._key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid or self.kid})

    def header(self, service_url: str, **options: Any) -> str:
        return "Bearer " + self.mint(service_url, **options)

    def app(self) -> web.Application:
        async def metadata(_: web.Request) -> web.Response:
            self.metadata_requests += 1
            return web.json_response(
                {
                    "issuer": BOT_FRAMEWORK_ISSUER,
                    "jwks_uri": self.url + KEYS_PATH,
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def keys(_: web.Request) -> web.Response:
            return web.json_response(self.jwks())

        app = web.Application()
        app.router.add_get(METADATA_PATH, metadata)
        app.router.add_get(KEYS_PATH, keys)
        return app


@asynccontextmanager
async def running_issuer(app_id: str) -> AsyncIterator[TokenIssuer]:
    issuer = TokenIssuer(app_id)
    async with serve(issuer.app()) as url:
        issuer.url = url
        yield issuer
