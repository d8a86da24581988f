"""Builds the Teams bot's parts from settings: runtime, notifier and turn handler.

Called by the composition root (wiring.services) when BOT_APP_ID is set, and by the
/api/messages trigger; nothing here runs at import time.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from bot.commands import Commands
from bot.connector import TokenProvider
from bot.credentials import token_provider
from bot.endpoint import BotEndpoint
from bot.handler import BotHandler
from bot.runtime import BotRuntime
from bot.settings import PUBLIC_OPENID_METADATA_URL, BotSettings
from bot.teams_notifier import TeamsNotifier
from bot.vmfacts import VmFacts
from remediation.azure.graph import membership_from_settings
from remediation.settings import CREDENTIAL_SETTINGS, Settings
from remediation.store import Store

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from remediation.loganalytics import LogFacts
    from wiring.services import Services


def bot_settings(settings: Settings) -> BotSettings:
    """The bot identity; raises BotConfigError when it is incomplete."""
    return BotSettings(
        app_id=settings.get("BOT_APP_ID"),
        app_type=settings.get("BOT_APP_TYPE"),  # type: ignore[arg-type]  # checked there
        tenant_id=settings.get("BOT_TENANT_ID"),
        openid_metadata_url=settings.get("BOT_OPENID_METADATA_URL") or PUBLIC_OPENID_METADATA_URL,
        sdk=settings.get("BOT_SDK"),  # type: ignore[arg-type]  # checked there
    )


def bot_token_provider(
    bot: BotSettings, settings: Settings, shared: TokenCredential
) -> TokenProvider:
    """The outgoing Bot Connector token. A bot whose identity is the app's own managed
    identity (as deployed) uses the app's `shared` credential; another managed identity, or
    an app registration (AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH) for SingleTenant
    bots, gets its own, built on first use."""
    if bot.app_type == "UserAssignedMSI" and bot.app_id == settings.get("AZURE_CLIENT_ID"):
        return token_provider(shared)

    @functools.cache
    def credential():
        from remediation.azure import credential as msal_credentials

        env = settings.pick(CREDENTIAL_SETTINGS)
        if bot.app_type == "UserAssignedMSI":
            return msal_credentials.managed_identity_credential(
                bot.app_id, ca_bundle=env["ARM_CA_BUNDLE"] or None
            )
        return msal_credentials.client_credential(
            bot.token_tenant,
            bot.app_id,
            secret=env["AZURE_CLIENT_SECRET"] or None,
            certificate_path=env["AZURE_CLIENT_CERTIFICATE_PATH"] or None,
            authority_host=env["AZURE_AUTHORITY_HOST"],
            ca_bundle=env["ARM_CA_BUNDLE"] or None,
        )

    class _Lazy:
        def get_token(self, *scopes: str):
            return credential().get_token(*scopes)

    return token_provider(_Lazy())


def teams_notifier(
    settings: Settings,
    store: Store,
    credential: TokenCredential,
    tokens: TokenProvider | None = None,
    **adapter: Any,
) -> TeamsNotifier:
    """A notifier whose adapter lives on its own loop thread (see bot.runtime)."""
    bot = bot_settings(settings)
    provider = tokens or bot_token_provider(bot, settings, credential)
    runtime = BotRuntime(lambda: BotEndpoint(bot, provider, **adapter))
    return TeamsNotifier(runtime, store)


def handler_for(services: Services) -> BotHandler:
    """The turn handler over the process's services (its engine must notify Teams)."""
    notifier = services.engine.notifier
    if not isinstance(notifier, TeamsNotifier):
        raise RuntimeError("the bot is not configured: set BOT_APP_ID")
    settings = services.settings
    facts = VmFacts(
        services.arm, settings.items("POLL_VAULT_IDS"), _log_facts(settings, services.credential)
    )
    membership = functools.cache(  # on first use
        lambda: membership_from_settings(settings, services.credential)
    )
    return BotHandler(services.engine, notifier, Commands(services.engine, facts), membership)


def _log_facts(settings: Settings, credential: TokenCredential) -> LogFacts | None:
    if not settings.get("LOG_ANALYTICS_WORKSPACE_ID"):
        return None
    from remediation.loganalytics import LogFacts

    return LogFacts(settings, credential)
