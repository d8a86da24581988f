"""Why a Bot Connector request is refused, in the words the 401 carries and the log keeps, one
case each; and what is accepted that could look wrong: a scheme in any case, a service URL
with or without its trailing slash, keys published next to ones the bot cannot use."""

import time

import jwt
import pytest

from bot.auth import AuthError, BotFrameworkAuthenticator, OpenIdKeys, _parse_jwks
from tests.botkit.activities import BOT_APP_ID
from tests.botkit.servers import run_async
from tests.botkit.tokens import _key, running_issuer

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
LATER = int(time.time()) + 3600

REFUSED = {
    "expired": ({"expired": True}, "token expired"),
    "not yet valid": ({"claims": {"nbf": LATER}}, "token not valid yet"),
    "audience": ({"audience": "some-other-bot"}, "token audience is not this bot"),
    "issuer": ({"issuer": "https://sts.windows.net/evil/"},
               "token issuer is not the Bot Framework"),
    "signature": ({"wrong_key": True}, "token signature is invalid"),
    "unknown key": ({"kid": "not-published"}, "token signed with an unknown key"),
    "service url": ({"claims": {"serviceurl": "https://evil.example/"}},
                    "serviceurl claim does not match the activity's serviceUrl"),
}  # fmt: skip


async def _refusal(issuer, header: str | None, channel: str = "msteams") -> str:
    auth = BotFrameworkAuthenticator(BOT_APP_ID, OpenIdKeys(issuer.metadata_url))
    with pytest.raises(AuthError) as refused:
        await auth.authenticate(header, channel, SERVICE_URL)
    return refused.value.reason


@pytest.mark.parametrize(("options", "reason"), REFUSED.values(), ids=REFUSED.keys())
@run_async
async def test_each_refusal_says_exactly_why(options, reason):
    async with running_issuer(BOT_APP_ID) as issuer:
        assert await _refusal(issuer, issuer.header(SERVICE_URL, **options)) == reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "missing Authorization header"), ("", "missing Authorization header"),
     ("Basic dXNlcjpwYXNz", "Authorization header is not a Bearer token"),
     ("Bearer   ", "Authorization header is not a Bearer token")],
)  # fmt: skip
@run_async
async def test_a_missing_or_foreign_header_says_exactly_why(header, reason):
    async with running_issuer(BOT_APP_ID) as issuer:
        assert await _refusal(issuer, header) == reason


@run_async
async def test_a_key_not_endorsed_for_the_channel_names_the_channel():
    async with running_issuer(BOT_APP_ID) as issuer:
        reason = await _refusal(issuer, issuer.header(SERVICE_URL), channel="webchat")
        assert reason == "signing key is not endorsed for channel 'webchat'"


@run_async
async def test_a_symmetric_algorithm_is_refused_before_any_key_is_used():
    async with running_issuer(BOT_APP_ID) as issuer:
        secret = "a shared secret of thirty-two bytes or more"
        forged = jwt.encode({"aud": BOT_APP_ID}, secret, algorithm="HS256",
                            headers={"kid": issuer.kid})  # fmt: skip
        assert (
            await _refusal(issuer, f"Bearer {forged}") == "token algorithm 'HS256' is not allowed"
        )


@run_async
async def test_a_token_without_an_expiry_is_refused():
    async with running_issuer(BOT_APP_ID) as issuer:
        claims = {"iss": "https://api.botframework.com", "aud": BOT_APP_ID,
                  "serviceurl": SERVICE_URL}  # fmt: skip
        token = jwt.encode(claims, _key(0), algorithm="RS256", headers={"kid": issuer.kid})
        reason = await _refusal(issuer, f"Bearer {token}")
        assert reason.startswith("invalid token: ") and "exp" in reason


@run_async
async def test_scheme_case_spaces_and_a_trailing_slash_do_not_matter():
    async with running_issuer(BOT_APP_ID) as issuer:
        auth = BotFrameworkAuthenticator(BOT_APP_ID, OpenIdKeys(issuer.metadata_url))
        token = issuer.mint(SERVICE_URL)
        claims = await auth.authenticate(f"  bearer {token} ", "msteams", SERVICE_URL.rstrip("/"))
        assert claims["serviceurl"] == SERVICE_URL


def test_only_rsa_keys_with_an_id_are_kept_from_the_published_set():
    rsa_key = jwt.algorithms.RSAAlgorithm.to_jwk(_key(0).public_key(), as_dict=True)
    keys = _parse_jwks({"keys": [
        {"kty": "EC", "kid": "ec-key", "crv": "P-256", "x": "x", "y": "y"},
        {**rsa_key},  # no kid: cannot be chosen by a token
        {**rsa_key, "kid": "teams-key", "endorsements": ["msteams"]},
    ]})  # fmt: skip
    assert list(keys) == ["teams-key"]
    assert keys["teams-key"].endorsements == ("msteams",)
