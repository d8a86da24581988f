"""Bot Framework JWT validation against a real OpenID metadata/JWKS server on loopback."""

import time

import pytest

from bot.auth import AuthError, AuthUnavailable, BotFrameworkAuthenticator, OpenIdKeys
from tests.botkit.activities import BOT_APP_ID
from tests.botkit.servers import run_async
from tests.botkit.tokens import running_issuer

SERVICE_URL = "https://smba.trafficmanager.net/emea/"


def _authenticator(metadata_url: str) -> BotFrameworkAuthenticator:
    return BotFrameworkAuthenticator(BOT_APP_ID, OpenIdKeys(metadata_url))


@run_async
async def test_valid_token_yields_its_claims_and_keys_are_cached():
    async with running_issuer(BOT_APP_ID) as issuer:
        auth = _authenticator(issuer.metadata_url)
        for _ in range(3):
            claims = await auth.authenticate(issuer.header(SERVICE_URL), "msteams", SERVICE_URL)
            assert claims["aud"] == BOT_APP_ID
            assert claims["serviceurl"] == SERVICE_URL
        assert issuer.metadata_requests == 1


INVALID = {
    "expired": ({"expired": True}, "token expired"),
    "wrong audience": ({"audience": "some-other-bot"}, "audience"),
    "wrong issuer": ({"issuer": "https://sts.windows.net/evil/"}, "issuer"),
    "bad signature": ({"wrong_key": True}, "signature"),
    "unknown key id": ({"kid": "not-published"}, "unknown key"),
    "other service url": ({"claims": {"serviceurl": "https://evil.example/"}}, "serviceurl"),
}


@pytest.mark.parametrize("options, reason", INVALID.values(), ids=INVALID.keys())
@run_async
async def test_invalid_tokens_are_rejected_with_a_reason(options, reason):
    async with running_issuer(BOT_APP_ID) as issuer:
        token = issuer.header(SERVICE_URL, **options)
        with pytest.raises(AuthError, match=reason):
            await _authenticator(issuer.metadata_url).authenticate(token, "msteams", SERVICE_URL)


@pytest.mark.parametrize(
    "header, reason",
    [
        (None, "missing"),
        ("", "missing"),
        ("Basic dXNlcjpwYXNz", "not a Bearer"),
        ("Bearer", "not a Bearer"),
        ("Bearer abc.def.ghi", "malformed"),
    ],
)
@run_async
async def test_missing_or_malformed_headers_are_rejected(header, reason):
    async with running_issuer(BOT_APP_ID) as issuer:
        with pytest.raises(AuthError, match=reason):
            await _authenticator(issuer.metadata_url).authenticate(header, "msteams", SERVICE_URL)


@run_async
async def test_clock_skew_is_tolerated_but_bounded():
    async with running_issuer(BOT_APP_ID) as issuer:
        auth = _authenticator(issuer.metadata_url)
        just_expired = issuer.header(SERVICE_URL, claims={"exp": int(time.time()) - 60})
        await auth.authenticate(just_expired, "msteams", SERVICE_URL)
        long_expired = issuer.header(SERVICE_URL, claims={"exp": int(time.time()) - 600})
        with pytest.raises(AuthError, match="expired"):
            await auth.authenticate(long_expired, "msteams", SERVICE_URL)


@run_async
async def test_key_must_be_endorsed_for_the_activity_channel():
    async with running_issuer(BOT_APP_ID) as issuer:
        with pytest.raises(AuthError, match="endorsed"):
            await _authenticator(issuer.metadata_url).authenticate(
                issuer.header(SERVICE_URL), "webchat", SERVICE_URL
            )


@run_async
async def test_unreachable_metadata_is_unavailable_not_unauthorized():
    async with running_issuer(BOT_APP_ID) as issuer:
        token = issuer.header(SERVICE_URL)
        dead_url = issuer.metadata_url
    with pytest.raises(AuthUnavailable, match="signing keys"):
        await _authenticator(dead_url).authenticate(token, "msteams", SERVICE_URL)


def test_authentication_cannot_be_disabled_with_an_empty_app_id():
    with pytest.raises(ValueError, match="app id"):
        BotFrameworkAuthenticator("", OpenIdKeys("http://127.0.0.1:9/unused"))
