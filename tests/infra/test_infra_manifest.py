"""The Teams manifest template, once filled, matches the offline schema of its version."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from appPackage.build import MANIFEST, fill
from appPackage.schema import (
    ManifestSchemaError,
    TeamsManifestValidator,
    load_schema,
    manifest_errors,
)

BOT_ID = "6e0c8d4a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
APP_ID = "0f1e2d3c-4b5a-4978-8877-665544332211"
COMMANDS = {"why did VM", "explain", "status", "incidents", "pause", "resume", "dry-run", "help"}


@pytest.fixture
def manifest() -> dict[str, Any]:
    template = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return fill(
        template,
        {
            "BOT_ID": BOT_ID,
            "TEAMS_APP_ID": APP_ID,
            "BOT_DOMAIN": "func-abc.azurewebsites.net",
            "DEVELOPER_URL": "https://ops.example.com",
        },
    )


def test_filled_manifest_is_valid(manifest: dict[str, Any]) -> None:
    assert manifest_errors(manifest) == []


def test_template_uses_a_shipped_schema_version_of_at_least_1_17() -> None:
    template = json.loads(MANIFEST.read_text(encoding="utf-8"))
    major, minor = (int(part) for part in template["manifestVersion"].split("."))
    assert (major, minor) >= (1, 17)
    assert load_schema(template["manifestVersion"])["properties"]["manifestVersion"]
    assert template["$schema"].endswith(
        f"/v{template['manifestVersion']}/MicrosoftTeams.schema.json"
    )


def test_template_placeholders_are_the_ids(manifest: dict[str, Any]) -> None:
    template = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert template["id"] == "${{TEAMS_APP_ID}}"
    assert template["bots"][0]["botId"] == "${{BOT_ID}}"
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID


def test_bot_is_conversational_in_every_scope_with_the_commands(manifest: dict[str, Any]) -> None:
    [bot] = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    lists = {scope: cmd_list for cmd_list in bot["commandLists"] for scope in cmd_list["scopes"]}
    assert set(lists) == set(bot["scopes"])
    for cmd_list in lists.values():
        assert {command["title"] for command in cmd_list["commands"]} == COMMANDS
    assert manifest["validDomains"] == ["func-abc.azurewebsites.net"]


def test_a_different_manifest_version_fails_the_const_check(manifest: dict[str, Any]) -> None:
    """Draft4Validator alone ignores draft-06 `const`; the extended validator must not."""
    schema_version = manifest["manifestVersion"]
    manifest["manifestVersion"] = "9.99"
    with pytest.raises(ManifestSchemaError, match=r"9\.99"):
        manifest_errors(manifest)
    errors = list(TeamsManifestValidator(load_schema(schema_version)).iter_errors(manifest))
    assert any(list(e.path) == ["manifestVersion"] for e in errors)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name", "short"), None),
        (("accentColor",), "blue"),
        (("bots", 0, "scopes"), ["team", "everyone"]),
        (("bots", 0, "botId"), "not-a-guid"),
        (("developer", "privacyUrl"), "ftp://example.com"),
    ],
    ids=["missing-short-name", "bad-accent-color", "bad-scope", "bad-bot-id", "bad-url"],
)
def test_broken_manifest_fails(manifest: dict[str, Any], path: tuple, value: Any) -> None:
    broken = copy.deepcopy(manifest)
    parent = broken
    for key in path[:-1]:
        parent = parent[key]
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    errors = manifest_errors(broken)
    assert errors, f"{path} = {value!r} was accepted"
    assert any(str(path[0]) in error for error in errors)


def test_unicode_property_patterns_are_supported() -> None:
    """v1.23+ schemas use \\p{L} patterns that Python's re rejects; validation must not crash."""
    validator = TeamsManifestValidator({"pattern": r"^[\p{L}][\p{L}0-9._]*$"})
    assert validator.is_valid("Ärger_1")
    assert not validator.is_valid("1abc")
