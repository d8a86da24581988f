"""The Bicep templates parse, deploy what the design needs, and keep the settings list whole."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from bicep_settings import INFRA, MAIN_BICEP, REPO_ROOT, app_setting_names, parse_bicep

BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
REQUIRED_SETTINGS = [
    "STORE_KIND",
    "STORE_TABLES_ENDPOINT",
    "STORE_TABLE_PREFIX",
    "QUEUE_KIND",
    "ServiceBusConnection__fullyQualifiedNamespace",
    "ServiceBusConnection__credential",
    "ServiceBusConnection__clientId",
    "REMEDIATION_QUEUE_NAME",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "POLLER_SCHEDULE",
    "POLL_VAULT_IDS",
    "LOG_ANALYTICS_WORKSPACE_ID",
    "BOT_APP_ID",
    "BOT_APP_TYPE",
    "BOT_TENANT_ID",
    "BOT_SDK",
    "POLICY_FILE",
    "APPROVER_OBJECT_IDS",
    "APPROVER_GROUP_ID",
    "GRAPH_ENDPOINT",
    "DRY_RUN",
    "AUTOMATION_PAUSED",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
]
REQUIRED_TYPES = [
    "Microsoft.Resources/resourceGroups",
    "Microsoft.ManagedIdentity/userAssignedIdentities",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.Storage/storageAccounts/blobServices/containers",
    "Microsoft.Storage/storageAccounts/tableServices",
    "Microsoft.Web/serverfarms",
    "Microsoft.Web/sites",
    "Microsoft.Web/sites/config",
    "Microsoft.ServiceBus/namespaces",
    "Microsoft.ServiceBus/namespaces/queues",
    "Microsoft.OperationalInsights/workspaces",
    "Microsoft.Insights/components",
    "Microsoft.Insights/actionGroups",
    "Microsoft.AlertsManagement/actionRules",
    "Microsoft.BotService/botServices",
    "Microsoft.BotService/botServices/channels",
    "Microsoft.Authorization/roleDefinitions",
    "Microsoft.Authorization/roleAssignments",
]
ACTION = re.compile(r"^[A-Za-z]+\.[A-Za-z]+(/[A-Za-z][A-Za-z0-9]*)+$")
VERBS = {"read", "write", "delete", "action"}


def resources(path: Path) -> dict[str, dict[str, Any]]:
    return parse_bicep(path).get("resources", {})


def resource_of_type(path: Path, resource_type: str) -> dict[str, Any]:
    matches = [r for r in resources(path).values() if r["type"] == resource_type]
    assert len(matches) == 1, f"{path.name}: expected one {resource_type}, got {len(matches)}"
    return matches[0]["config"]


def deployed_files(path: Path) -> list[Path]:
    """A template and every local module it deploys, transitively."""
    files = [path]
    for module in parse_bicep(path).get("modules", {}).values():
        files += deployed_files((path.parent / module["detail"]["path"]).resolve())
    return files


def deployed_types() -> set[str]:
    return {r["type"] for f in deployed_files(MAIN_BICEP) for r in resources(f).values()}


def module(name: str) -> Path:
    """The file of one module that main.bicep deploys."""
    return INFRA / parse_bicep(MAIN_BICEP)["modules"][name]["detail"]["path"]


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_bicep_file_parses(path: Path) -> None:
    parsed = parse_bicep(path)
    assert parsed.get("resources") or parsed.get("modules"), f"{path} deploys nothing"


def test_parser_rejects_broken_bicep(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bicep"
    broken.write_text(MAIN_BICEP.read_text()[:400] + "\nresource x 'A/b@1' = {\n")
    with pytest.raises(Exception, match=r"(?i)unexpected"):
        parse_bicep(broken)


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_parameter_is_described_and_secrets_are_secure(path: Path) -> None:
    for name, param in parse_bicep(path).get("parameters", {}).items():
        decorators = {d["type"] for d in param["decorators"]}
        assert "description" in decorators, f"{path.name}: param {name} has no @description"
        if re.search(r"(?i)key|secret|password", name):
            assert "secure" in decorators, f"{path.name}: param {name} must be @secure()"


def test_main_deploys_every_required_resource_type() -> None:
    missing = set(REQUIRED_TYPES) - deployed_types()
    assert not missing, f"not deployed: {sorted(missing)}"


def test_every_module_path_exists() -> None:
    files = deployed_files(MAIN_BICEP)
    assert all(f.is_file() for f in files)
    assert set(files) == set(BICEP_FILES), "a module file is not deployed by main.bicep"


def test_app_settings_are_exactly_the_required_names() -> None:
    names = app_setting_names()
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(REQUIRED_SETTINGS)


def test_app_settings_hold_no_keys_and_use_the_identity() -> None:
    settings = parse_bicep(MAIN_BICEP)["variables"]["functionAppSettings"]["value"]
    assert settings["STORE_KIND"] == "tables"
    assert settings["QUEUE_KIND"] == "servicebus"
    assert settings["BOT_APP_TYPE"] == "UserAssignedMSI"
    assert settings["ServiceBusConnection__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    text = json.dumps(settings)
    assert not re.search(r"(?i)listKeys|AccountKey|SharedAccessKey|connectionString\(", text)


def test_function_app_takes_the_settings_object_and_runs_python_311_on_flex() -> None:
    path = module("functionApp")
    site = resource_of_type(path, "Microsoft.Web/sites")
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"]["type"] == "UserAssignedIdentity"
    assert set(config["scaleAndConcurrency"]) >= {"instanceMemoryMB", "maximumInstanceCount"}
    plan = resource_of_type(path, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert resource_of_type(path, "Microsoft.Web/sites/config")["properties"] == "appSettings"
    params = parse_bicep(MAIN_BICEP)["modules"]["functionApp"]["config"]["params"]
    assert params["appSettings"] == "functionAppSettings"


def test_remediation_queue_has_sessions_and_dead_lettering() -> None:
    path = module("serviceBus")
    namespace = resource_of_type(path, "Microsoft.ServiceBus/namespaces")
    assert namespace["sku"]["name"] == "Standard"
    queue = resource_of_type(path, "Microsoft.ServiceBus/namespaces/queues")["properties"]
    assert queue["requiresSession"] is True
    assert queue["deadLetteringOnMessageExpiration"] is True
    assert {"maxDeliveryCount", "lockDuration"} <= set(queue)


def test_bot_uses_the_managed_identity_and_has_the_teams_channel() -> None:
    path = module("bot")
    bot = resource_of_type(path, "Microsoft.BotService/botServices")
    assert bot["kind"] == "azurebot"
    props = bot["properties"]
    assert props["msaAppType"] == "UserAssignedMSI"
    assert {"msaAppId", "msaAppTenantId", "msaAppMSIResourceId"} <= set(props)
    assert props["endpoint"].endswith("/api/messages")
    channel = resource_of_type(path, "Microsoft.BotService/botServices/channels")
    assert channel["name"] == channel["properties"]["channelName"] == "MsTeamsChannel"


def test_alerts_reach_the_function_through_action_group_and_processing_rule() -> None:
    path = module("alerting")
    group = resource_of_type(path, "Microsoft.Insights/actionGroups")["properties"]
    [receiver] = group["webhookReceivers"]
    assert receiver["useCommonAlertSchema"] is True
    url = json.dumps(parse_bicep(path)["variables"]["webhookUrl"])
    assert "/api/alerts" in url
    rule = next(
        r for r in resources(path).values() if r["type"] == "Microsoft.AlertsManagement/actionRules"
    )
    props = rule["config"]["config"]["properties"]  # conditional resource: if (...) {...}
    assert props["scopes"] == "vaultIds"
    assert props["actions"][0]["actionType"] == "AddActionGroups"
    fields = {c["field"]: c["values"] for c in props["conditions"]}
    assert fields["TargetResourceType"] == ["microsoft.recoveryservices/vaults"]
    assert "Azure Backup" in fields["MonitorService"]


def test_role_actions_are_well_formed_and_without_wildcards() -> None:
    role = json.loads((INFRA / "role-actions.json").read_text())
    assert role["notActions"] == []
    actions = role["actions"]
    assert actions and len({a.lower() for a in actions}) == len(actions), "duplicate action"
    for action in actions:
        assert "*" not in action, action
        assert ACTION.match(action), f"malformed action {action!r}"
        assert action.rsplit("/", 1)[1] in VERBS, f"{action!r} does not end in a verb"


def test_custom_role_is_loaded_from_role_actions_json() -> None:
    parsed = parse_bicep(MAIN_BICEP)
    load = parsed["variables"]["roleActions"]["value"]["function"]
    assert load["type"] == "load_json_content"
    assert load["parameters"]["file_path"] == "role-actions.json"
    role = resource_of_type(MAIN_BICEP, "Microsoft.Authorization/roleDefinitions")
    [permission] = role["properties"]["permissions"]
    assert json.dumps(permission["actions"]) == json.dumps(
        {
            "operator": {
                "type": "property_accessor",
                "operands": {"operand_1": "roleActions", "operand_2": "actions"},
            }
        }
    )


def test_custom_role_is_assigned_per_resource_group_only() -> None:
    modules = parse_bicep(MAIN_BICEP)["modules"]
    loop = modules["remediationAssignments"]["config"]
    assert loop["loop_type"]["detail"]["array_name"] == "remediationScopes"
    assert loop["config"]["scope"]["function"]["type"] == "resource_group"
    assignment = resource_of_type(
        module("remediationAssignments"), "Microsoft.Authorization/roleAssignments"
    )
    assert "scope" not in assignment, "the assignment must sit on the module's resource group"


def test_parameters_file_matches_main_parameters() -> None:
    params = parse_bicep(MAIN_BICEP)["parameters"]
    supplied = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(supplied) <= set(params), f"unknown: {set(supplied) - set(params)}"
    required = {name for name, p in params.items() if p["default"] is None}
    assert required <= set(supplied), f"not supplied: {required - set(supplied)}"
    assert supplied["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert supplied["location"]["value"] == "${AZURE_LOCATION}"


def test_outputs_give_azd_the_function_and_bot() -> None:
    outputs = parse_bicep(MAIN_BICEP)["outputs"]
    assert {"AZURE_FUNCTION_APP_NAME", "BOT_ID", "SERVICE_API_URI", "AZURE_CLIENT_ID"} <= set(
        outputs
    )


def test_azure_yaml_declares_one_python_function_service() -> None:
    config = yaml.safe_load((REPO_ROOT / "azure.yaml").read_text())
    assert config["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}
    tags = parse_bicep(MAIN_BICEP)["modules"]["functionApp"]["config"]["params"]["tags"]
    assert tags["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "api"}
