"""Pull subscription, resource group and named segments out of ARM resource ids."""

from __future__ import annotations

from dataclasses import dataclass

from remediation.textnorm import memo


@dataclass(frozen=True, slots=True)
class ArmId:
    """An ARM id split into its `type/name` pairs; lookups ignore the case of segment types."""

    value: str
    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, value: str | None) -> ArmId | None:
        """None for anything that is not an absolute /subscriptions/... id."""
        if not value or not value.startswith("/"):
            return None
        return _parsed(value)

    def get(self, kind: str) -> str | None:
        """The name after the last segment `kind` (e.g. "vaults", "virtualMachines")."""
        return _named(self.pairs, kind)

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
        return _prefix_through(self.pairs, kind)

    @property
    def vault_id(self) -> str | None:
        return self.prefix_through("vaults")


@memo
def _parsed(value: str) -> ArmId | None:
    """Ids repeat within a payload and across a stream; an ArmId is immutable, so it is shared."""
    parts = [p for p in value.strip().split("/") if p]
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        return None
    pairs = tuple((parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2))
    return ArmId(value.strip(), pairs)


def _last_index(pairs: tuple[tuple[str, str], ...], kind: str) -> int | None:
    kind = kind.lower()
    for index in range(len(pairs) - 1, -1, -1):
        if pairs[index][0].lower() == kind:
            return index
    return None


@memo
def _named(pairs: tuple[tuple[str, str], ...], kind: str) -> str | None:
    index = _last_index(pairs, kind)
    return None if index is None else pairs[index][1]


@memo
def _prefix_through(pairs: tuple[tuple[str, str], ...], kind: str) -> str | None:
    index = _last_index(pairs, kind)
    if index is None:
        return None
    return "/" + "/".join(f"{k}/{v}" for k, v in pairs[: index + 1])
