"""What the Bicep points at the app reaches it, under one identity.

Values are evaluated from the Bicep (tests/infra/bicep_settings.py) with Azure-shaped module
outputs; they are checked against the routes function_app.py registers under host.json's
route prefix, the app settings, and the Teams package built as infra/README.md step 6 says,
validated with Microsoft's manifest schema (@microsoft/app-manifest).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bicep_settings import (
    INFRA,
    REPO_ROOT,
    DeployedModule,
    deployed_output,
    deployed_settings,
    parse_bicep,
)

from appPackage.schema import manifest_errors

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "3f0e5c1a-7b2d-4e8f-9a6c-1d2e3f4a5b6c"
IDENTITY_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-prod/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-abc"
)
HOST = "func-abc.azurewebsites.net"
OUTPUTS = {
    "identity.clientId": CLIENT_ID,
    "identity.id": IDENTITY_ID,
    "functionApp.defaultHostName": HOST,
    "functionApp.name": "func-abc",
    "storage.tableEndpoint": "https://stabc.table.core.windows.net/",
    "storage.name": "stabc",
    "serviceBus.fullyQualifiedNamespace": "sb-abc.servicebus.windows.net",
    "serviceBus.queueName": "remediation",
    "workspaceReader.customerId": "5c4b3a29-1807-4f6e-8d5c-4b3a29180706",
    "monitoring.appInsightsConnectionString": "InstrumentationKey=00000000-0000-0000-0000-0",
}
# Settings through which the host or the app signs in as a user-assigned identity.
IDENTITY_SETTINGS = (
    "AZURE_CLIENT_ID",
    "BOT_APP_ID",
    "ServiceBusConnection__clientId",
    "AzureWebJobsStorage__clientId",
)


def module(name: str) -> DeployedModule:
    return DeployedModule(name, {}, OUTPUTS, TENANT_ID)


@pytest.fixture(scope="module")
def http_triggers() -> dict[str, Any]:
    """Route to trigger of every HTTP function function_app.py registers."""
    import function_app

    function_app.app.functions_bindings = None  # the library lists an app's functions once
    triggers = [f.get_trigger() for f in function_app.app.get_functions()]
    return {t.route: t for t in triggers if t.type == "httpTrigger"}


def route_of(url_path: str) -> str:
    """The function route a path reaches: the path under host.json's route prefix."""
    host = json.loads((REPO_ROOT / "host.json").read_text())
    prefix = host["extensions"]["http"]["routePrefix"]
    assert url_path.startswith(f"/{prefix}/"), f"{url_path} is outside /{prefix}/"
    return url_path.removeprefix(f"/{prefix}/")


def test_the_bot_endpoint_reaches_the_anonymous_messages_function(http_triggers) -> None:
    endpoint = urlsplit(module("bot").resource("bot", "properties", "endpoint"))
    assert (endpoint.scheme, endpoint.hostname) == ("https", HOST)
    trigger = http_triggers[route_of(endpoint.path)]
    assert "POST" in {str(m) for m in trigger.methods}
    # Azure Bot Service sends a Bot Framework token, never a function key.
    assert str(trigger.auth_level) == "ANONYMOUS"


def test_the_action_group_calls_the_alerts_function_with_a_key(http_triggers) -> None:
    url = parse_bicep(INFRA / "modules/alerting.bicep")["variables"]["webhookUrl"]["value"]
    [(host, path)] = re.findall(
        r"^https://(\$\{site\.properties\.defaultHostName\})(/[^?]+)\?code=", url
    )
    assert host and path
    trigger = http_triggers[route_of(path)]
    assert "POST" in {str(m) for m in trigger.methods}
    assert str(trigger.auth_level) == "FUNCTION", "the key in the URL is what admits the call"


def test_every_identity_setting_names_the_identity_the_site_runs_as() -> None:
    settings = deployed_settings({}, OUTPUTS, TENANT_ID)
    site = module("functionApp")
    attached = site.context.parsed["resources"]["site"]["config"]["identity"]
    keys = attached["userAssignedIdentities"]  # pycep keeps a key's quotes
    assert [site.context.evaluate(key.strip("'")) for key in keys] == [IDENTITY_ID]
    assert site.resource("site", "identity", "type") == "UserAssigned"
    assert {settings[name] for name in IDENTITY_SETTINGS} == {CLIENT_ID}
    insights = settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert insights == f"ClientId={CLIENT_ID};Authorization=AAD"


def test_bot_registration_settings_and_teams_package_agree(tmp_path: Path) -> None:
    """The package is built from azd's outputs as an operator does (infra/README.md step 6)."""
    settings = deployed_settings({}, OUTPUTS, TENANT_ID)
    bot = module("bot")
    registration = {
        key: bot.resource("bot", "properties", key)
        for key in ("msaAppId", "msaAppType", "msaAppTenantId", "msaAppMSIResourceId", "endpoint")
    }
    assert registration["msaAppId"] == settings["BOT_APP_ID"] == CLIENT_ID
    assert registration["msaAppType"] == settings["BOT_APP_TYPE"]
    assert registration["msaAppTenantId"] == settings["BOT_TENANT_ID"] == TENANT_ID
    assert registration["msaAppMSIResourceId"] == IDENTITY_ID

    bot_id = deployed_output("BOT_ID", {}, OUTPUTS, TENANT_ID)
    api_uri = deployed_output("SERVICE_API_URI", {}, OUTPUTS, TENANT_ID)
    out = tmp_path / "teams-app.zip"
    build = [sys.executable, "-m", "appPackage.build", "--bot-id", bot_id, "--bot-domain", api_uri]
    result = subprocess.run(
        [*build, "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest_errors(manifest) == []
    assert [b["botId"] for b in manifest["bots"]] == [registration["msaAppId"]]
    assert manifest["validDomains"] == [urlsplit(registration["endpoint"]).hostname]


def test_the_service_bus_setting_is_the_bare_host_of_azures_endpoint() -> None:
    """ServiceBusConnection__fullyQualifiedNamespace wants `<namespace>.servicebus.windows.net`
    (Functions' identity-based connection docs); the module derives it from the namespace's
    serviceBusEndpoint, here as ARM returns it in Microsoft's REST example (api 2024-01-01)."""
    example = json.loads(
        (Path(__file__).parent / "spec_examples/SBNameSpaceCreate.json").read_text()
    )
    namespace = example["responses"]["200"]["body"]
    bus = DeployedModule("serviceBus", {}, OUTPUTS, TENANT_ID, responses={"namespace": namespace})
    host = bus.output("fullyQualifiedNamespace")
    endpoint = urlsplit(namespace["properties"]["serviceBusEndpoint"])
    assert host.lower() == endpoint.hostname and re.fullmatch(r"[A-Za-z0-9.-]+", host)
    outputs = OUTPUTS | {"serviceBus.fullyQualifiedNamespace": host}
    settings = deployed_settings({}, outputs, TENANT_ID)
    assert settings["ServiceBusConnection__fullyQualifiedNamespace"] == host
