"""The deployed app settings computed from infra/main.bicep, pointed at the stand-ins."""

from __future__ import annotations

import json
import uuid
from typing import Any

import azure.functions as func
from azure.functions.servicebus import ServiceBusMessage

from devtools.simulator.identity import TEST_TENANT
from tests.engine.signals import load
from tests.infra.bicep_settings import deployed_settings
from tests.store.azurite import ACCOUNT, free_port

from .conftest import StandIns

IDENTITY_CLIENT_ID = "3f0e5c1a-7b2d-4e8f-9a6c-1d2e3f4a5b6c"
WORKSPACE_CUSTOMER_ID = "5c4b3a29-1807-4f6e-8d5c-4b3a29180706"
NAMESPACE = "sb-standin.servicebus.windows.net"
SHARED_SECRET = "alerts-secret-for-the-stand-ins"
# Settings that only say where a stand-in listens (declared deployed=False in the code).
STAND_IN_ADDRESSES = ("ARM_ENDPOINT", "ARM_CA_BUNDLE", "SERVICEBUS_CUSTOM_ENDPOINT")
# The managed identity endpoint the platform gives a Function App (App Service's protocol);
# the variables of other hosts, which msal would prefer or fall back to, are cleared.
PLATFORM_SET = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")
PLATFORM_CLEARED = (
    "IDENTITY_SERVER_THUMBPRINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


def azure_settings(stand_ins: StandIns, **overrides: str) -> dict[str, str]:
    """The deployed app settings for this run, plus the stand-ins' addresses."""
    sim = stand_ins.sim
    parameters = {
        "pollVaultIds": ",".join(v.id for v in sim.estate.vaults.values()),
        "graphEndpoint": sim.base_url,
        "storeTablePrefix": "t" + uuid.uuid4().hex[:12],  # a fresh store for each test
        "alertsSharedSecret": SHARED_SECRET,
    }
    outputs = {
        "storage.tableEndpoint": overrides.pop("tables", stand_ins.tables_endpoint),
        "storage.name": ACCOUNT,
        "serviceBus.fullyQualifiedNamespace": NAMESPACE,
        "serviceBus.queueName": "remediation",
        "identity.clientId": IDENTITY_CLIENT_ID,
        "workspaceReader.customerId": WORKSPACE_CUSTOMER_ID,
        "monitoring.appInsightsConnectionString": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint=https://127.0.0.1:{free_port()}/"
        ),
    }
    deployed = deployed_settings(parameters, outputs, TEST_TENANT)
    sim.tokens.site_identities = {IDENTITY_CLIENT_ID}  # function-app.bicep: UserAssigned only
    local = {
        "ARM_ENDPOINT": sim.base_url,
        "ARM_CA_BUNDLE": stand_ins.ca_bundle,
        "SERVICEBUS_CUSTOM_ENDPOINT": overrides.pop(
            "servicebus", f"sb://{stand_ins.servicebus.namespace}"
        ),
        "IDENTITY_ENDPOINT": overrides.pop("identity", sim.base_url) + "/msi/token",
        "IDENTITY_HEADER": sim.tokens.identity_header,
    }
    assert not overrides, f"unknown overrides {overrides}"
    return deployed | local


def alert_request(body: bytes, secret: str = SHARED_SECRET) -> func.HttpRequest:
    """An action-group call as the deployed URL makes it (the key itself is the host's)."""
    return func.HttpRequest(
        "POST",
        "https://func.example/api/alerts",
        headers={"Content-Type": "application/json"},
        params={"code": "checked-by-the-functions-host", "secret": secret},
        body=body,
    )


def common_alert() -> bytes:
    return json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()


def bus_message(record: dict[str, Any]) -> ServiceBusMessage:
    """What the Service Bus trigger receives for a message the stand-in accepted."""
    return ServiceBusMessage(
        body=record["body"].encode(), message_id=record["message_id"],
        session_id=record["session_id"], content_type="application/json",
        application_properties={}, user_properties={},
    )  # fmt: skip
