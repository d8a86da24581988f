"""Bot Framework JWT validation of inbound requests, independent of any bot SDK.

Written on PyJWT rather than botframework-connector's ChannelValidation because the SDK's
validator fetches the OpenID metadata with blocking `requests` inside the event loop (it stalls
the Functions worker and deadlocks against a key server on the same loop), keeps its metadata
URL in a global class attribute, accepts emulator and skill tokens too, and turns an unknown key
or a malformed token into an arbitrary exception. The checks are those of the Bot Framework
protocol: issuer, audience = bot app id, RS256 signature by a published key endorsed for the
activity's channel, validity period with clock skew, and the serviceurl claim.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
ALGORITHMS = ("RS256",)
CLOCK_SKEW_SECONDS = 300
KEYS_MAX_AGE_SECONDS = 24 * 3600
UNKNOWN_KEY_REFRESH_SECONDS = 300


class AuthError(Exception):
    """The request is not from the Bot Framework for this bot: answer 401 with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthUnavailable(Exception):
    """The signing keys cannot be fetched, so no token can be checked: answer 503."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: Any
    endorsements: tuple[str, ...]


class OpenIdKeys:
    """Signing keys from OpenID metadata, cached a day, refreshed early for an unknown key id."""

    def __init__(self, metadata_url: str, timeout: float = 10.0) -> None:
        self._metadata_url = metadata_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> SigningKey | None:
        if time.monotonic() - self._fetched_at > KEYS_MAX_AGE_SECONDS:
            await self._refresh(max_age=KEYS_MAX_AGE_SECONDS)
        if kid not in self._keys:
            await self._refresh(max_age=UNKNOWN_KEY_REFRESH_SECONDS)
        return self._keys.get(kid)

    async def _refresh(self, max_age: float) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at <= max_age:
                return  # another request refreshed while this one waited
            try:
                async with aiohttp.ClientSession(timeout=self._timeout) as session:
                    metadata = await _get_json(session, self._metadata_url)
                    jwks = await _get_json(session, metadata["jwks_uri"])
                self._keys = _parse_jwks(jwks)
            except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError) as exc:
                raise AuthUnavailable(f"cannot load Bot Framework signing keys: {exc}") from exc
            self._fetched_at = time.monotonic()


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


def _parse_jwks(jwks: dict[str, Any]) -> dict[str, SigningKey]:
    keys = {}
    for jwk in jwks["keys"]:
        if jwk.get("kty") != "RSA" or "kid" not in jwk:
            continue
        keys[jwk["kid"]] = SigningKey(
            key=jwt.PyJWK(jwk, algorithm="RS256").key,
            endorsements=tuple(jwk.get("endorsements") or ()),
        )
    return keys


class BotFrameworkAuthenticator:
    """Validates the `Authorization: Bearer` header of a Bot Connector request."""

    def __init__(self, app_id: str, keys: OpenIdKeys) -> None:
        if not app_id:
            raise ValueError("an app id is required: authentication cannot be turned off")
        self._app_id = app_id
        self._keys = keys

    async def authenticate(
        self, auth_header: str | None, channel_id: str, service_url: str
    ) -> dict[str, Any]:
        """Return the token's claims or raise AuthError (AuthUnavailable if keys can't load)."""
        token = _bearer_token(auth_header)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise AuthError(f"malformed token: {exc}") from exc
        if header.get("alg") not in ALGORITHMS:
            raise AuthError(f"token algorithm {header.get('alg')!r} is not allowed")
        signing_key = await self._keys.get(str(header.get("kid")))
        if signing_key is None:
            raise AuthError("token signed with an unknown key")
        if signing_key.endorsements and channel_id not in signing_key.endorsements:
            raise AuthError(f"signing key is not endorsed for channel {channel_id!r}")
        claims = self._decode(token, signing_key)
        if _normalise_url(claims.get("serviceurl")) != _normalise_url(service_url):
            raise AuthError("serviceurl claim does not match the activity's serviceUrl")
        return claims

    def _decode(self, token: str, signing_key: SigningKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                signing_key.key,
                algorithms=list(ALGORITHMS),
                audience=self._app_id,
                issuer=BOT_FRAMEWORK_ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError("token not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError("token audience is not this bot") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("token issuer is not the Bot Framework") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("token signature is invalid") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}") from exc


def _bearer_token(auth_header: str | None) -> str:
    if not auth_header:
        raise AuthError("missing Authorization header")
    scheme, _, token = auth_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header is not a Bearer token")
    return token.strip()


def _normalise_url(url: object) -> str:
    return str(url or "").rstrip("/")
