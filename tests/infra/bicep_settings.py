"""Read the Function App settings list from infra/main.bicep.

main.bicep keeps every app setting in one object variable; this helper returns its names so
tests can compare them with the settings the code reads (remediation/settings.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
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
    context = _main_context(parameters, outputs, tenant_id, path)
    return {name: _text(context.evaluate(value)) for name, value in app_settings(path).items()}


class DeployedModule:
    """A module of main.bicep with the values main.bicep passes it, evaluated on demand.

    Its parameters are main.bicep's expressions for them (in main.bicep's context: the same
    parameters, stand-in outputs and tenant as `deployed_settings`), or its own defaults.
    `responses` are ARM's answers for its resources (symbolic name to body), from which
    expressions such as `namespace.properties.serviceBusEndpoint` take their values.
    """

    def __init__(
        self,
        name: str,
        parameters: dict[str, Any],
        outputs: dict[str, str],
        tenant_id: str,
        path: Path = MAIN_BICEP,
        responses: dict[str, Any] | None = None,
    ) -> None:
        main = _main_context(parameters, outputs, tenant_id, path)
        self.context = main.module(name)
        self.context.responses = responses or {}

    def resource(self, symbol: str, *keys: str) -> Any:
        """The value of one property of a resource, e.g. ("bot", "properties", "endpoint")."""
        node = self.context.parsed["resources"][symbol]["config"]
        for key in keys:
            node = node[key]
        return self.context.evaluate(node)

    def output(self, name: str) -> Any:
        return self.context.evaluate(self.context.parsed["outputs"][name]["value"])


def _main_context(
    parameters: dict[str, Any], outputs: dict[str, str], tenant_id: str, path: Path
) -> _Context:
    parsed = parse_bicep(path)
    declared = parsed.get("parameters", {})
    unknown = set(parameters) - set(declared)
    if unknown:
        raise KeyError(f"not parameters of {path.name}: {sorted(unknown)}")
    values = {name: p["default"] for name, p in declared.items()} | parameters
    return _Context(path, values, outputs, tenant_id)


class _ModuleParameters(Mapping[str, Any]):
    """A module's parameters: the deploying template's expression, else the default."""

    def __init__(self, parent: _Context, given: dict[str, Any], declared: dict[str, Any]):
        self._parent = parent
        self._given = given
        self._declared = declared

    def __getitem__(self, name: str) -> Any:
        if name in self._given:
            return self._parent.evaluate(self._given[name])
        if self._declared[name]["default"] is None:
            raise Unevaluated(f"module parameter {name} has no value")
        return self._declared[name]["default"]

    def __contains__(self, name: object) -> bool:
        return name in self._declared

    def __iter__(self) -> Iterator[str]:
        return iter(self._declared)

    def __len__(self) -> int:
        return len(self._declared)


class _Context:
    def __init__(
        self, path: Path, parameters: Mapping[str, Any], outputs: dict[str, str], tenant_id: str
    ) -> None:
        self.path = path
        self.parsed = parse_bicep(path)
        self.parameters = parameters
        self.variables = self.parsed.get("variables", {})
        self.outputs = outputs
        self.tenant_id = tenant_id
        self.responses: dict[str, Any] = {}

    def module(self, name: str) -> _Context:
        """The context inside one module this template deploys."""
        declared = self.parsed["modules"][name]
        path = (self.path.parent / declared["detail"]["path"]).resolve()
        given = declared["config"]["params"]
        parameters = _ModuleParameters(self, given, parse_bicep(path).get("parameters", {}))
        return _Context(path, parameters, self.outputs, self.tenant_id)

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
        if isinstance(owner, str) and owner in self.responses:  # a resource's runtime state
            value = self.responses[owner]
            for key in chain:
                value = value[key]
            return value
        raise Unevaluated(f"property {owner!r:.80}.{chain}")

    def _output(self, module: str, name: str) -> Any:
        """A stand-in's value, else the module's own output when it derives from its inputs."""
        key = f"{module}.{name}"
        if key in self.outputs:
            return self.outputs[key]
        if module in self.parsed.get("modules", {}):
            inner = self.module(module)
            try:
                return inner.evaluate(inner.parsed["outputs"][name]["value"])
            except Unevaluated:
                pass
        raise Unevaluated(f"no stand-in value for the output {key}")

    def _function(self, function: dict[str, Any]) -> Any:
        arguments = function.get("parameters") or {}
        if function["type"] == "idList":  # main.bicep: split a CSV, trim, drop empty parts
            text = self.evaluate(arguments["arg_1"])
            return [part.strip() for part in text.split(",") if part.strip()]
        if function["type"] == "replace":
            return self.evaluate(arguments["original_string"]).replace(
                self.evaluate(arguments["old_string"]), self.evaluate(arguments["new_string"])
            )
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


def deployed_output(
    name: str, parameters: dict[str, Any], outputs: dict[str, str], tenant_id: str
) -> Any:
    """One output of main.bicep (what azd stores in its environment), as deployed."""
    context = _main_context(parameters, outputs, tenant_id, MAIN_BICEP)
    return context.evaluate(context.parsed["outputs"][name]["value"])
