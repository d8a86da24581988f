"""Pull subscription, resource group and named segments out of ARM resource ids."""

from __future__ import annotations

from dataclasses import dataclass, field

from remediation.textnorm import memo


@dataclass(frozen=True)
class ArmId:
    """An ARM id split into its `type/name` pairs; lookups ignore the case of segment types.

    `kinds` holds the segment types in lower case, for the lookups; an ArmId is shared by
    every parse of the same id (see `_parsed`), so what it computes is kept on it.
    """

    value: str
    pairs: tuple[tuple[str, str], ...]
    kinds: tuple[str, ...] = field(repr=False, compare=False, default=())
    _prefixes: dict[str, str | None] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    @classmethod
    def parse(cls, value: str | None) -> ArmId | None:
        """None for anything that is not an absolute /subscriptions/... id."""
        if not value or not value.startswith("/"):
            return None
        return _parsed(value)

    def _last_index(self, kind: str) -> int | None:
        kinds, kind = self.kinds, kind.lower()
        for index in range(len(kinds) - 1, -1, -1):
            if kinds[index] == kind:
                return index
        return None

    def get(self, kind: str) -> str | None:
        """The name after the last segment `kind` (e.g. "vaults", "virtualMachines")."""
        index = self._last_index(kind)
        return None if index is None else self.pairs[index][1]

    @property
    def subscription_id(self) -> str | None:
        return self.get("subscriptions")

    @property
    def resource_group(self) -> str | None:
        return self.get("resourceGroups")

    @property
    def name(self) -> str:
        return self.pairs[-1][1]

    def prefix_through(self, kind: str) -> str | None:
        """The id cut just after the `kind/name` pair, e.g. the vault id of a child resource."""
        prefixes = self._prefixes
        if kind not in prefixes:
            index = self._last_index(kind)
            prefixes[kind] = (
                None
                if index is None
                else "/" + "/".join(f"{k}/{v}" for k, v in self.pairs[: index + 1])
            )
        return prefixes[kind]

    @property
    def vault_id(self) -> str | None:
        return self.prefix_through("vaults")


@memo
def _parsed(value: str) -> ArmId | None:
    """Ids repeat within a payload and across a stream; an ArmId is immutable, so it is shared."""
    value = value.strip()
    parts = value.split("/")
    if "" in parts:
        parts = [p for p in parts if p]
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        return None
    kinds = parts[0::2]
    pairs = tuple(zip(kinds, parts[1::2], strict=False))
    return ArmId(value, pairs, tuple(kind.lower() for kind in kinds[: len(pairs)]))
