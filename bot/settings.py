"""The bot identity settings, read through the app's settings registry and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from remediation.settings import Settings

AppType = Literal["SingleTenant", "UserAssignedMSI", "MultiTenant"]
APP_TYPES: tuple[str, ...] = ("SingleTenant", "UserAssignedMSI", "MultiTenant")
SdkName = Literal["botbuilder", "agents"]
SDKS: tuple[str, ...] = ("botbuilder", "agents")

PUBLIC_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"


class BotConfigError(ValueError):
    """The bot settings are missing or inconsistent; the bot must not start with them."""


@dataclass(frozen=True, slots=True)
class BotSettings:
    app_id: str
    app_type: AppType
    tenant_id: str
    openid_metadata_url: str = PUBLIC_OPENID_METADATA_URL
    sdk: SdkName = "agents"

    def __post_init__(self) -> None:
        if not self.app_id:
            # An empty app id would mean "auth disabled" in the SDKs: never allowed here.
            raise BotConfigError("BOT_APP_ID is required (inbound tokens are always validated)")
        if self.app_type not in APP_TYPES:
            raise BotConfigError(f"BOT_APP_TYPE must be one of {', '.join(APP_TYPES)}")
        if self.app_type != "MultiTenant" and not self.tenant_id:
            raise BotConfigError(f"BOT_TENANT_ID is required when BOT_APP_TYPE={self.app_type}")
        if self.sdk not in SDKS:
            raise BotConfigError(f"BOT_SDK must be one of {', '.join(SDKS)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        settings = Settings(env)
        return cls(
            app_id=settings.get("BOT_APP_ID"),
            app_type=settings.get("BOT_APP_TYPE"),  # type: ignore[arg-type]  # checked above
            tenant_id=settings.get("BOT_TENANT_ID"),
            openid_metadata_url=settings.get("BOT_OPENID_METADATA_URL")
            or PUBLIC_OPENID_METADATA_URL,
            sdk=settings.get("BOT_SDK"),  # type: ignore[arg-type]  # checked above
        )

    @property
    def token_tenant(self) -> str:
        """Entra tenant that issues the bot's outgoing token (client credentials)."""
        return "botframework.com" if self.app_type == "MultiTenant" else self.tenant_id
