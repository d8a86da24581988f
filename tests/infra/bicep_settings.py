"""Read the Function App settings list from infra/main.bicep.

main.bicep keeps every app setting in one object variable; this helper returns its names so
tests can compare them with the settings the code reads (remediation/settings.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
MAIN_BICEP = INFRA / "main.bicep"
SETTINGS_VARIABLE = "functionAppSettings"


@cache
def parse_bicep(path: Path) -> dict[str, Any]:
    """pycep's dict for one Bicep file (globals, parameters, variables, resources, ...)."""
    return BicepParser().parse(file_path=path)


def app_settings(path: Path = MAIN_BICEP) -> dict[str, Any]:
    """The settings object, name to parsed value expression."""
    variables = parse_bicep(path).get("variables", {})
    if SETTINGS_VARIABLE not in variables:
        raise KeyError(f"{path} has no variable {SETTINGS_VARIABLE!r}")
    value = variables[SETTINGS_VARIABLE]["value"]
    if not isinstance(value, dict):
        raise TypeError(f"{SETTINGS_VARIABLE} in {path} is not an object literal")
    return value


def app_setting_names(path: Path = MAIN_BICEP) -> list[str]:
    """The app setting names, in the order main.bicep lists them."""
    return list(app_settings(path))
