"""A Bot Framework token issuer: an RSA key, its OpenID metadata + JWKS, and token minting.

The bot validates inbound requests against the OpenID metadata at BOT_OPENID_METADATA_URL.
Pointed at this issuer, it accepts the tokens `mint()` signs, exactly as it accepts the Bot
Connector's in Azure: the dev chat page signs the activities it sends, and the tests use the
same issuer (with switches for every way a token can be wrong) against the real validation.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.auth import BOT_FRAMEWORK_ISSUER

METADATA_PATH = "/.well-known/openidconfiguration"
KEYS_PATH = "/keys"
TOKEN_LIFETIME_SECONDS = 3600


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class BotFrameworkIssuer:
    """Signs tokens for bot `app_id` with a key published (endorsed for `endorsements`) at
    `url` + KEYS_PATH; set `url` to where `routes()` are served before minting."""

    def __init__(
        self,
        app_id: str,
        *,
        endorsements: tuple[str, ...] = ("msteams",),
        key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self.app_id = app_id
        self.endorsements = endorsements
        self.kid = uuid.uuid4().hex
        self._key = key or new_key()
        self.url = ""

    @property
    def metadata_url(self) -> str:
        return self.url + METADATA_PATH

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": BOT_FRAMEWORK_ISSUER,
            "jwks_uri": self.url + KEYS_PATH,
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256", endorsements=list(self.endorsements))
        return {"keys": [jwk]}

    def mint(
        self,
        service_url: str,
        *,
        claims: dict[str, Any] | None = None,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        """A token as the Bot Connector sends it with an activity for `service_url`;
        `claims` override the standard ones, `key`/`kid` sign with something else."""
        now = int(time.time())
        payload = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": self.app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            **(claims or {}),
        }
        return jwt.encode(
            payload, key or self._key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def header(self, service_url: str, **options: Any) -> str:
        """The Authorization header value for an activity sent to `service_url`."""
        return "Bearer " + self.mint(service_url, **options)

    def routes(self, prefix: str = "") -> list[web.RouteDef]:
        """The metadata and key routes under `prefix` (`url` must end with that prefix)."""
        return [
            web.get(prefix + METADATA_PATH, self._metadata),
            web.get(prefix + KEYS_PATH, self._keys),
        ]

    async def _metadata(self, _: web.Request) -> web.Response:
        return web.json_response(self.metadata())

    async def _keys(self, _: web.Request) -> web.Response:
        return web.json_response(self.jwks())


async def post_signed(
    session: aiohttp.ClientSession,
    issuer: BotFrameworkIssuer,
    messages_url: str,
    activity: dict[str, Any],
) -> tuple[int, Any]:
    """POST `activity` to the bot's /api/messages as the Bot Connector does, with a fresh token
    for the activity's serviceUrl; the status and the JSON body (or None)."""
    headers = {"Authorization": issuer.header(activity["serviceUrl"])}
    async with session.post(messages_url, json=activity, headers=headers) as response:
        text = await response.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = {"error": text[:300]}
        return response.status, body
