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
    "ALERTS_SHARED_SECRET",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
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


def test_alerts_reach_the_function_with_the_key_the_bicep_reads() -> None:
    """No second provision: the action group's URL carries the host key read by listKeys."""
    path = module("alerting")
    group = resource_of_type(path, "Microsoft.Insights/actionGroups")["properties"]
    [receiver] = group["webhookReceivers"]
    assert receiver["useCommonAlertSchema"] is True
    assert receiver["serviceUri"] == "webhookUrl"
    url = parse_bicep(path)["variables"]["webhookUrl"]["value"]
    assert "/api/alerts?code=${listKeys('${site.id}/host/default'" in url
    assert url.endswith(".functionKeys.default}${secretQuery}")
    secret = parse_bicep(path)["parameters"]["sharedSecret"]
    assert "secure" in {d["type"] for d in secret["decorators"]}
    params = parse_bicep(MAIN_BICEP)["modules"]["alerting"]["config"]["params"]
    assert params["sharedSecret"] == "alertsSharedSecret"
    settings = parse_bicep(MAIN_BICEP)["variables"]["functionAppSettings"]["value"]
    assert settings["ALERTS_SHARED_SECRET"] == "alertsSharedSecret", "a provision keeps it"
    assert not any("FunctionKey" in name for name in parse_bicep(MAIN_BICEP)["parameters"])


def test_one_processing_rule_per_subscription_of_the_vaults() -> None:
    """A rule's scopes must be in its own subscription: the module runs once per subscription,
    in a vault's resource group, with that subscription's vaults only."""
    loop = parse_bicep(MAIN_BICEP)["modules"]["alertRouting"]["config"]
    assert loop["loop_type"]["detail"]["array_name"] == "alertSubscriptions"
    scope = json.dumps(loop["config"]["scope"])
    assert '"type": "resource_group"' in scope and "alertVaults" in scope
    vault_ids = json.dumps(loop["config"]["params"]["vaultIds"])
    assert '"type": "filter"' in vault_ids and '"sub"' in vault_ids
    path = module("alertRouting")
    rule = resource_of_type(path, "Microsoft.AlertsManagement/actionRules")["properties"]
    assert rule["scopes"] == "vaultIds"
    assert rule["actions"][0]["actionType"] == "AddActionGroups"
    fields = {c["field"]: c["values"] for c in rule["conditions"]}
    assert fields["TargetResourceType"] == ["microsoft.recoveryservices/vaults"]
    assert "Azure Backup" in fields["MonitorService"]


def test_maximum_instance_count_starts_at_flex_consumptions_lowest_maximum() -> None:
    for path, params in ((MAIN_BICEP, "maximumInstanceCount"), (module("functionApp"), None)):
        param = parse_bicep(path)["parameters"][params or "maximumInstanceCount"]
        bounds = {d["type"]: d.get("argument") for d in param["decorators"]}
        assert bounds["min_value"] == 40 and bounds["max_value"] == 1000, path.name


def test_application_insights_takes_entra_auth_only() -> None:
    path = module("monitoring")
    component = resource_of_type(path, "Microsoft.Insights/components")["properties"]
    assert component["DisableLocalAuth"] is True
    grant = resource_of_type(path, "Microsoft.Authorization/roleAssignments")
    assert grant["scope"] == "appInsights"
    assert parse_bicep(path)["variables"]["monitoringMetricsPublisher"]["value"] == (
        "3913510d-42f4-4e42-8a64-420c390055eb"  # Monitoring Metrics Publisher
    )
    settings = parse_bicep(MAIN_BICEP)["variables"]["functionAppSettings"]["value"]
    auth = settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert auth == "ClientId=${identity.outputs.clientId};Authorization=AAD"


def test_role_actions_are_well_formed_and_without_wildcards() -> None:
    roles = json.loads((INFRA / "role-actions.json").read_text())["roles"]
    for kind, role in roles.items():
        actions = role["actions"]
        assert role["description"] and actions, kind
        assert len({a.lower() for a in actions}) == len(actions), f"duplicate action in {kind}"
        for action in actions:
            assert "*" not in action, action
            assert ACTION.match(action), f"malformed action {action!r}"
            assert action.rsplit("/", 1)[1] in VERBS, f"{action!r} does not end in a verb"


def test_one_custom_role_per_kind_is_loaded_from_role_actions_json() -> None:
    parsed = parse_bicep(MAIN_BICEP)
    load = parsed["variables"]["roleActions"]["value"]["function"]
    assert load["type"] == "load_json_content"
    assert load["parameters"]["file_path"] == "role-actions.json"
    roles = next(
        r["config"]
        for r in resources(MAIN_BICEP).values()
        if r["type"] == "Microsoft.Authorization/roleDefinitions"
    )
    assert "roleActions" in json.dumps(roles["loop_type"]) and "items" in json.dumps(roles)
    [permission] = roles["config"]["properties"]["permissions"]
    assert "role" in json.dumps(permission["actions"]) and "actions" in json.dumps(
        permission["actions"]
    )
    assert permission["notActions"] == []


def test_each_role_is_assigned_on_the_groups_of_its_kind_only() -> None:
    parsed = parse_bicep(MAIN_BICEP)
    grants = json.dumps(parsed["variables"]["groupGrants"]["value"])
    for parameter, kind in (
        ("migrateResourceGroupIds", "migrateGroups"),
        ("backupVaultResourceGroupIds", "vaultGroups"),
        ("restorePointResourceGroupIds", "restorePointGroups"),
        ("vmResourceGroupIds", "vmGroups"),
    ):
        assert parameter in grants and f'"kind": "{kind}"' in grants, kind
    loop = parsed["modules"]["groupAssignments"]["config"]
    assert loop["loop_type"]["detail"]["array_name"] == "groupGrants"
    assert loop["config"]["scope"]["function"]["type"] == "resource_group"
    assignment = resource_of_type(
        module("groupAssignments"), "Microsoft.Authorization/roleAssignments"
    )
    assert "scope" not in assignment, "the assignment must sit on the module's resource group"
    reads = parsed["modules"]["subscriptionAssignments"]["config"]
    assert reads["loop_type"]["detail"]["array_name"] == "grantedSubscriptions"
    assert reads["config"]["scope"]["function"]["type"] == "subscription"
    assert '"roleNames", "operand_2": "subscription"' in json.dumps(reads["config"]["params"])


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
    params = parse_bicep(MAIN_BICEP)["modules"]["functionApp"]["config"]["params"]
    assert params["serviceName"] == "api"


def test_the_azd_service_tag_is_on_the_site_only() -> None:
    """azd deploy looks for exactly one resource tagged azd-service-name=api."""
    path = module("functionApp")
    site_tags = resource_of_type(path, "Microsoft.Web/sites")["tags"]
    assert site_tags["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "serviceName"}
    assert resource_of_type(path, "Microsoft.Web/serverfarms")["tags"] == "tags"
    tagged = [
        (f.name, r["type"])
        for f in deployed_files(MAIN_BICEP)
        for r in resources(f).values()
        if "azd-service-name" in json.dumps(r)
    ]
    assert tagged == [("function-app.bicep", "Microsoft.Web/sites")]
    assert "azd-service-name" not in json.dumps(parse_bicep(MAIN_BICEP)["variables"]["tags"])
