"""Every setting the app reads, in one place, with its meaning.

`local.settings.sample.json`, the README and the Bicep app settings list the same names; a
test keeps them in step with `SETTINGS` below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Setting:
    """`deployed` is False for settings that only local runs and tests set (Azure keeps the
    default), so the Bicep app settings can be checked against the rest."""

    name: str
    default: str
    meaning: str
    deployed: bool = True


SETTINGS: tuple[Setting, ...] = (
    Setting("STORE_KIND", "sqlite", "sqlite (embedded default) or tables (Azure Table storage)"),
    Setting(
        "STORE_SQLITE_PATH",
        ".state/remediation.db",
        "SQLite file for the embedded store",
        deployed=False,
    ),
    Setting(
        "STORE_TABLES_CONNECTION",
        "",
        "Table storage connection string (Azurite, local)",
        deployed=False,
    ),
    Setting("STORE_TABLES_ENDPOINT", "", "Table endpoint URL used with the managed identity"),
    Setting("STORE_TABLE_PREFIX", "remediation", "prefix of the table names"),
    Setting("QUEUE_KIND", "memory", "memory (in-process) or servicebus"),
    Setting(
        "ServiceBusConnection__fullyQualifiedNamespace",
        "",
        "Service Bus namespace host for the remediation queue (identity-based)",
    ),
    Setting(
        "SERVICEBUS_CUSTOM_ENDPOINT",
        "",
        "AMQP endpoint (sb://host:port) in front of the namespace: a local stand-in",
        deployed=False,
    ),
    Setting(
        "REMEDIATION_QUEUE_NAME",
        "remediation",
        "queue that carries signals to process and playbook steps, one per message",
    ),
    Setting("AZURE_CLIENT_ID", "", "client id of the user-assigned managed identity or app"),
    Setting("AZURE_TENANT_ID", "", "Entra tenant of the estate and of the approvers"),
    Setting(
        "AZURE_CLIENT_SECRET",
        "",
        "app secret, only where no managed identity exists",
        deployed=False,
    ),
    Setting(
        "AZURE_CLIENT_CERTIFICATE_PATH", "", "PEM certificate instead of a secret", deployed=False
    ),
    Setting(
        "AZURE_AUTHORITY_HOST",
        "https://login.microsoftonline.com",
        "Entra authority",
        deployed=False,
    ),
    Setting(
        "ARM_ENDPOINT",
        "https://management.azure.com",
        "Azure Resource Manager endpoint",
        deployed=False,
    ),
    Setting(
        "ARM_CA_BUNDLE",
        "",
        "CA bundle trusted for every Azure call (ARM, Entra, Graph, Tables, Service Bus): the"
        " local stand-ins' CA",
        deployed=False,
    ),
    Setting("POLLER_SCHEDULE", "0 */5 * * * *", "NCRONTAB schedule of the health poller"),
    Setting("POLL_VAULT_IDS", "", "comma-separated Recovery Services vault ids to poll"),
    Setting("LOG_ANALYTICS_WORKSPACE_ID", "", "workspace for AddonAzureBackupJobs and ASR tables"),
    Setting("BOT_APP_ID", "", "Azure Bot app (client) id"),
    Setting("BOT_APP_TYPE", "UserAssignedMSI", "UserAssignedMSI or SingleTenant"),
    Setting("BOT_TENANT_ID", "", "tenant of the Azure Bot identity"),
    Setting(
        "BOT_SDK",
        "agents",
        "SDK that runs the bot's turns: agents (Microsoft 365 Agents SDK) or botbuilder",
    ),
    Setting(
        "BOT_OPENID_METADATA_URL",
        "",
        "override of the Bot Framework OpenID metadata URL",
        deployed=False,
    ),
    Setting(
        "POLICY_FILE",
        "policy.yaml",
        "remediation policy (modes, approvers, limits); relative to the app root",
    ),
    Setting("APPROVER_OBJECT_IDS", "", "comma-separated Entra object ids allowed to approve"),
    Setting("APPROVER_GROUP_ID", "", "Entra group whose members may approve"),
    Setting(
        "GRAPH_ENDPOINT",
        "https://graph.microsoft.com",
        "Microsoft Graph endpoint, asked for approver group membership",
    ),
    Setting("DRY_RUN", "false", "true: plan and report fixes, write nothing to Azure"),
    Setting("AUTOMATION_PAUSED", "false", "true: global kill switch, no fix starts"),
    Setting(
        "ALERTS_SHARED_SECRET",
        "",
        "when set, every ingestion route requires it (x-alert-secret header or ?secret=); "
        "deployed from the alertsSharedSecret parameter",
    ),
    Setting("APPLICATIONINSIGHTS_CONNECTION_STRING", "", "Application Insights telemetry"),
    Setting(
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "",
        "Entra sign-in of the telemetry (local auth is off): ClientId=<identity>;Authorization=AAD",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
# What remediation.azure.credential.credential_from_settings reads: the app's own identity.
CREDENTIAL_SETTINGS = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_AUTHORITY_HOST",
    "ARM_CA_BUNDLE",
)
# What remediation.store.open_store reads.
STORE_SETTINGS = (
    "STORE_KIND",
    "STORE_SQLITE_PATH",
    "STORE_TABLES_CONNECTION",
    "STORE_TABLES_ENDPOINT",
    "STORE_TABLE_PREFIX",
    "ARM_CA_BUNDLE",
)


class Settings:
    """Read-only view over the environment (or a given mapping) limited to known settings."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if env is None else env

    def get(self, name: str) -> str:
        setting = _BY_NAME[name]  # KeyError for a name not declared above: a programming error
        return self._env.get(name, setting.default).strip()

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in {"1", "true", "yes", "on"}

    def pick(self, names: tuple[str, ...]) -> dict[str, str]:
        """The named settings as a plain mapping, for parts configured from a mapping."""
        return {name: self.get(name) for name in names}

    def items(self, name: str) -> list[str]:
        return [part.strip() for part in self.get(name).split(",") if part.strip()]
