"""Offline validation of a Teams app manifest against the schema its manifestVersion names.

The schemas ship in node_modules/@microsoft/app-manifest. They declare draft-04 yet use the
draft-06 `const` for manifestVersion, which Draft4Validator would silently ignore, and from
v1.23 some patterns use `\\p{L}`, which Python's `re` cannot compile; both are handled here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft4Validator, Draft6Validator, ValidationError, validators

SCHEMA_ROOT = (
    Path(__file__).resolve().parents[1]
    / "node_modules/@microsoft/app-manifest/build/json-schemas/teams"
)


class ManifestSchemaError(Exception):
    """The manifest names a version for which no offline schema exists."""


def _unicode_pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Any:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


TeamsManifestValidator = validators.extend(
    Draft4Validator,
    {"const": Draft6Validator.VALIDATORS["const"], "pattern": _unicode_pattern},
)


@cache
def load_schema(manifest_version: str) -> dict[str, Any]:
    """The main schema of one manifest version, e.g. "1.25" or "devPreview"."""
    folder = "vDevPreview" if manifest_version == "devPreview" else f"v{manifest_version}"
    path = SCHEMA_ROOT / folder / "MicrosoftTeams.schema.json"
    if not path.is_file():
        raise ManifestSchemaError(
            f"no offline schema for manifestVersion {manifest_version!r} (looked for {path}); "
            "run `npm install` in the repository root"
        )
    return json.loads(path.read_text(encoding="utf-8-sig"))


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Every schema violation as "json/path: message", in document order; empty when valid."""
    version = manifest.get("manifestVersion")
    if not isinstance(version, str):
        return ["manifestVersion: missing or not a string"]
    validator = TeamsManifestValidator(load_schema(version))
    errors = sorted(validator.iter_errors(manifest), key=lambda e: [str(p) for p in e.path])
    return [f"{'/'.join(str(p) for p in e.path) or '(root)'}: {e.message}" for e in errors]
