"""Read the Function App settings list from infra/main.bicep.

main.bicep keeps every app setting in one object variable; this helper returns its names so
tests can compare them with the settings the code reads (remediation/settings.py).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
MAIN_BICEP = INFRA / "main.bicep"
SETTINGS_VARIABLE = "functionAppSettings"
INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


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


class Unevaluated(ValueError):
    """An expression the evaluator below does not know; the message shows where it is."""


def deployed_settings(
    parameters: dict[str, Any], outputs: dict[str, str], tenant_id: str, path: Path = MAIN_BICEP
) -> dict[str, str]:
    """The app settings main.bicep deploys, as the deployment would compute them.

    `parameters` are the values azd passes (a parameter left out takes its default in the
    Bicep); `outputs` are the module outputs, keyed "module.output" (the Function App's
    view of the resources the stand-ins replace); `tenant_id` is what tenant() gives.
    """
    parsed = parse_bicep(path)
    declared = parsed.get("parameters", {})
    unknown = set(parameters) - set(declared)
    if unknown:
        raise KeyError(f"not parameters of {path.name}: {sorted(unknown)}")
    values = {name: p["default"] for name, p in declared.items()} | parameters
    context = _Context(values, parsed.get("variables", {}), outputs, tenant_id)
    return {name: _text(context.evaluate(value)) for name, value in app_settings(path).items()}


class _Context:
    def __init__(self, parameters, variables, outputs, tenant_id) -> None:
        self.parameters = parameters
        self.variables = variables
        self.outputs = outputs
        self.tenant_id = tenant_id

    def evaluate(self, node: Any) -> Any:
        if isinstance(node, bool | int) or node is None:
            return node
        if isinstance(node, str):  # pycep gives a parameter, a variable and a literal alike
            if node in self.parameters:
                return self.parameters[node]
            if node in self.variables:
                return self.evaluate(self.variables[node]["value"])
            return INTERPOLATION.sub(lambda m: _text(self._reference(m.group(1))), node)
        if isinstance(node, dict) and "operator" in node:
            return self._operator(node["operator"])
        if isinstance(node, dict) and "function" in node:
            return self._function(node["function"])
        raise Unevaluated(f"no value for {node!r:.200}")

    def _reference(self, text: str) -> Any:
        """`name` or `module.outputs.name` inside an interpolated string (pycep keeps it raw)."""
        parts = text.strip().split(".")
        if len(parts) == 1 and (parts[0] in self.parameters or parts[0] in self.variables):
            return self.evaluate(parts[0])
        if len(parts) == 3 and parts[1] == "outputs":
            return self._output(parts[0], parts[2])
        raise Unevaluated(f"interpolation ${{{text}}}")

    def _operator(self, operator: dict[str, Any]) -> Any:
        operands = operator["operands"]
        if operator["type"] == "conditional":
            chosen = "true_value" if self.evaluate(operands["condition"]) else "false_value"
            return self.evaluate(operands[chosen])
        if operator["type"] == "property_accessor":
            return self._property(operands["operand_1"], operands["operand_2"])
        raise Unevaluated(f"operator {operator['type']!r}")

    def _property(self, owner: Any, accessed: Any) -> Any:
        if owner == {"function": {"type": "tenant"}} and accessed == "tenantId":
            return self.tenant_id
        chain = _accessor_chain(accessed)
        if isinstance(owner, str) and len(chain) == 2 and chain[0] == "outputs":
            return self._output(owner, chain[1])
        raise Unevaluated(f"property {owner!r:.80}.{chain}")

    def _output(self, module: str, name: str) -> str:
        key = f"{module}.{name}"
        if key not in self.outputs:
            raise Unevaluated(f"no stand-in value for the output {key}")
        return self.outputs[key]

    def _function(self, function: dict[str, Any]) -> Any:
        arguments = function.get("parameters") or {}
        if function["type"] == "idList":  # main.bicep: split a CSV, trim, drop empty parts
            text = self.evaluate(arguments["arg_1"])
            return [part.strip() for part in text.split(",") if part.strip()]
        if function["type"] == "join":
            return self.evaluate(arguments["delimiter"]).join(
                self.evaluate(arguments["input_array"])
            )
        raise Unevaluated(f"function {function['type']!r}")


def _accessor_chain(node: Any) -> list[str]:
    """["outputs", "name"] for pycep's nested accessor `outputs.name`."""
    if isinstance(node, str):
        return [node]
    operands = node["operator"]["operands"]
    return [operands["operand_1"], *_accessor_chain(operands["operand_2"])]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int):
        raise Unevaluated(f"an app setting must be text, got {value!r:.80}")
    return str(value)
