"""POST /api/messages through the registered Functions blueprint and the composition root."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from bot.teams_notifier import TeamsNotifier
from tests.botkit.activities import BOT_APP_ID, sample
from tests.botkit.servers import run_async
from tests.botkit.stack import TENANT_ID
from tests.botkit.tokens import running_issuer
from tests.function_app_fixture import registered_functions


@pytest.fixture
def function_app(tmp_path, monkeypatch):
    """function_app on a fresh store; BOT_* settings are added by each test."""
    with registered_functions(tmp_path, monkeypatch) as (functions, composition):
        yield functions["messages"].get_user_function(), composition
        notifier = composition.services().engine.notifier
        if isinstance(notifier, TeamsNotifier):
            notifier.runtime.close()


def _request(body: bytes, authorization: str | None = None) -> func.HttpRequest:
    headers = {"Authorization": authorization} if authorization else {}
    return func.HttpRequest(
        "POST", "http://localhost/api/messages", headers=headers, params={}, body=body
    )


@run_async
async def test_the_bot_endpoint_validates_tokens_and_stores_installs(function_app, monkeypatch):
    messages, composition = function_app
    async with running_issuer(BOT_APP_ID) as issuer:
        monkeypatch.setenv("BOT_APP_ID", BOT_APP_ID)
        monkeypatch.setenv("BOT_APP_TYPE", "SingleTenant")
        monkeypatch.setenv("BOT_TENANT_ID", TENANT_ID)
        monkeypatch.setenv("BOT_OPENID_METADATA_URL", issuer.metadata_url)
        install = sample("installation_update_add")
        body = json.dumps(install).encode()

        unauthenticated = await messages(req=_request(body))
        assert unauthenticated.status_code == 401
        malformed = await messages(req=_request(b"{not json", issuer.header("https://x")))
        assert malformed.status_code == 400
        assert "not valid JSON" in json.loads(malformed.get_body())["reason"]

        accepted = await messages(req=_request(body, issuer.header(install["serviceUrl"])))
        assert accepted.status_code == 200
        notifier = composition.services().engine.notifier
        channel = notifier.conversations.channel()
        assert channel.teams_channel_id == "19:ops-channel@thread.tacv2"
        assert channel.service_url == install["serviceUrl"]


@run_async
async def test_without_bot_settings_the_endpoint_says_so(function_app):
    messages, _ = function_app
    response = await messages(req=_request(b"{}"))
    assert response.status_code == 503
    assert "BOT_APP_ID" in json.loads(response.get_body())["reason"]
