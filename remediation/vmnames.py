"""VM names as Azure accepts them, checked before a name reaches any query."""

from __future__ import annotations

import re

# Azure VM resource names: 1-64 characters, letters, digits, '-', '_' and '.', starting with
# a letter or digit and not ending with '.' or '-'. VMware machine names that Azure Migrate
# reports follow the same rule for the names this bot can act on.
_VM_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$")


class InvalidVmName(ValueError):
    """The text is not a name Azure could have given a VM; it never reaches a query."""


def checked_vm_name(name: str) -> str:
    if not isinstance(name, str) or not _VM_NAME.match(name):
        raise InvalidVmName(f"{str(name)[:80]!r} is not a valid Azure VM name")
    return name


def kql_string(value: str) -> str:
    """A KQL string literal for a value already checked by `checked_vm_name`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
