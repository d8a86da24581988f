"""Bot identity settings: names, defaults and the combinations that must not start."""

import pytest

from bot.settings import PUBLIC_OPENID_METADATA_URL, BotConfigError, BotSettings


def test_defaults_to_user_assigned_identity_and_the_public_metadata():
    settings = BotSettings.from_env({"BOT_APP_ID": "app", "BOT_TENANT_ID": "tenant"})
    assert (settings.app_type, settings.openid_metadata_url) == (
        "UserAssignedMSI",
        PUBLIC_OPENID_METADATA_URL,
    )
    assert settings.token_tenant == "tenant"
    assert settings.sdk == "agents"


def test_the_agents_sdk_is_chosen_by_bot_sdk():
    settings = BotSettings.from_env(
        {"BOT_APP_ID": "app", "BOT_TENANT_ID": "t", "BOT_SDK": "agents"}
    )
    assert settings.sdk == "agents"


def test_metadata_url_override_and_multi_tenant_authority():
    settings = BotSettings.from_env(
        {
            "BOT_APP_ID": "app",
            "BOT_APP_TYPE": "MultiTenant",
            "BOT_OPENID_METADATA_URL": "http://127.0.0.1:8123/v1/.well-known/openidconfiguration",
        }
    )
    assert settings.openid_metadata_url.startswith("http://127.0.0.1:8123/")
    assert settings.token_tenant == "botframework.com"


@pytest.mark.parametrize(
    "env, reason",
    [
        ({}, "BOT_APP_ID"),
        ({"BOT_APP_ID": "app", "BOT_APP_TYPE": "SingleTenant"}, "BOT_TENANT_ID"),
        ({"BOT_APP_ID": "app", "BOT_APP_TYPE": "Anonymous", "BOT_TENANT_ID": "t"}, "BOT_APP_TYPE"),
        ({"BOT_APP_ID": "app", "BOT_TENANT_ID": "t", "BOT_SDK": "teams"}, "BOT_SDK"),
    ],
)
def test_incomplete_settings_are_refused(env, reason):
    with pytest.raises(BotConfigError, match=reason):
        BotSettings.from_env(env)
