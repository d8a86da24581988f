"""Pull subscription, resource group and named segments out of ARM resource ids."""

from __future__ import annotations

from typing import NamedTuple

from remediation.textnorm import memo


class ArmId(NamedTuple):
    """An ARM id split into its segments (type, name, type, name...); lookups ignore the case
    of segment types.

    `kinds` holds the segment types in lower case, last first (lookups want the last one of a
    kind). An ArmId is immutable and shared by every parse of the same id (see `_parsed`); a
    named tuple costs half what a frozen dataclass costs to build.
    """

    value: str
    parts: tuple[str, ...]
    kinds: tuple[str, ...]
    # What nearly every signal asks of an id, worked out once per parse.
    subscription_id: str | None
    resource_group: str | None
    vault_id: str | None

    @classmethod
    def parse(cls, value: str | None) -> ArmId | None:
        """None for anything that is not an absolute /subscriptions/... id."""
        if not value or not value.startswith("/"):
            return None
        return _parsed(value)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The `(type, name)` pairs, in order."""
        parts = self.parts
        return tuple(zip(parts[0::2], parts[1::2], strict=True))

    def get(self, kind: str) -> str | None:
        """The name after the last segment `kind` (e.g. "vaults", "virtualMachines")."""
        return _name_after(self.parts, self.kinds, kind.lower())

    @property
    def name(self) -> str:
        return self.parts[-1]

    def prefix_through(self, kind: str) -> str | None:
        """The id cut just after the `kind/name` pair, e.g. the vault id of a child resource."""
        return _prefix_through(self.parts, self.kinds, kind.lower())


def _end_of(kinds: tuple[str, ...], kind: str) -> int | None:
    """The index in the parts just after the last `kind/name` pair, None without one."""
    return 2 * (len(kinds) - kinds.index(kind)) if kind in kinds else None


def _name_after(parts: tuple[str, ...], kinds: tuple[str, ...], kind: str) -> str | None:
    end = _end_of(kinds, kind)
    return None if end is None else parts[end - 1]


def _prefix_through(parts: tuple[str, ...], kinds: tuple[str, ...], kind: str) -> str | None:
    end = _end_of(kinds, kind)
    return None if end is None else "/" + "/".join(parts[:end])


@memo
def _parsed(value: str) -> ArmId | None:
    """Ids repeat within a payload and across a stream; an ArmId is immutable, so it is shared."""
    value = value.strip()
    parts = value.split("/")
    if parts[0] == "":
        del parts[0]
    if "" in parts:
        parts = [p for p in parts if p]
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        return None
    if len(parts) % 2:
        del parts[-1]  # a trailing type without a name
    names = tuple(parts)
    kinds = tuple("/".join(parts[-2::-2]).lower().split("/"))
    return ArmId(
        value,
        names,
        kinds,
        _name_after(names, kinds, "subscriptions"),
        _name_after(names, kinds, "resourcegroups"),
        _prefix_through(names, kinds, "vaults"),
    )
