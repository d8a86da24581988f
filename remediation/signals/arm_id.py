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

    def _end_of(self, kind: str) -> int | None:
        """The index in `parts` just after the last `kind/name` pair, None without one."""
        kind, kinds = kind.lower(), self.kinds
        return 2 * (len(kinds) - kinds.index(kind)) if kind in kinds else None

    def get(self, kind: str) -> str | None:
        """The name after the last segment `kind` (e.g. "vaults", "virtualMachines")."""
        end = self._end_of(kind)
        return None if end is None else self.parts[end - 1]

    @property
    def subscription_id(self) -> str | None:
        return self.get("subscriptions")

    @property
    def resource_group(self) -> str | None:
        return self.get("resourceGroups")

    @property
    def name(self) -> str:
        return self.parts[-1]

    def prefix_through(self, kind: str) -> str | None:
        """The id cut just after the `kind/name` pair, e.g. the vault id of a child resource."""
        end = self._end_of(kind)
        return None if end is None else "/" + "/".join(self.parts[:end])

    @property
    def vault_id(self) -> str | None:
        return self.prefix_through("vaults")


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
    kinds = "/".join(parts[-2::-2]).lower().split("/")
    return ArmId(value, tuple(parts), tuple(kinds))
