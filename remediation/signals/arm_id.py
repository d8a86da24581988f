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
        kind = kind.lower()
        for name, value in reversed(self.pairs):
            if name.lower() == kind:
                return value
        return None

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
        kind = kind.lower()
        for index in range(len(self.pairs) - 1, -1, -1):
            if self.pairs[index][0].lower() == kind:
                return "/" + "/".join(f"{k}/{v}" for k, v in self.pairs[: index + 1])
        return None

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
