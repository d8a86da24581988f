"""Private endpoints and their private DNS, read from ARM JSON: pure functions, no calls.

An endpoint serves a resource when one of its (automatic or manual) private link service
connections points at that resource's id. Its FQDNs and private IPs come from
`customDnsConfigs`; each FQDN resolves privately through a `privatelink.*` zone holding an A
record for the name in front of the zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PRIVATELINK = "privatelink."
# Public DNS suffixes whose privatelink zone has another name than "privatelink.<suffix>".
PRIVATE_SUFFIX = {"vault.azure.net": "vaultcore.azure.net"}


def serving(endpoints: Iterable[dict[str, Any]], target_ids: Iterable[str]) -> list[dict]:
    """The endpoints connected to any of `target_ids`, as JSON-ready summaries.

    Each summary: id, name, vnet_id, connections [{target_id, status, description}] (only
    those to the targets) and dns [{fqdn, ips}].
    """
    wanted = {t.lower() for t in target_ids if t}
    found = []
    for endpoint in endpoints:
        props = endpoint.get("properties") or {}
        connections = [
            _connection(c)
            for c in [
                *(props.get("privateLinkServiceConnections") or []),
                *(props.get("manualPrivateLinkServiceConnections") or []),
            ]
        ]
        mine = [c for c in connections if c["target_id"].lower() in wanted]
        if not mine:
            continue
        found.append(
            {
                "id": endpoint.get("id") or "",
                "name": endpoint.get("name") or "",
                "vnet_id": vnet_of(((props.get("subnet") or {}).get("id")) or ""),
                "connections": mine,
                "dns": [
                    {"fqdn": c.get("fqdn") or "", "ips": list(c.get("ipAddresses") or [])}
                    for c in props.get("customDnsConfigs") or []
                    if c.get("fqdn")
                ],
            }
        )
    return found


def _connection(connection: dict[str, Any]) -> dict[str, str]:
    props = connection.get("properties") or {}
    state = props.get("privateLinkServiceConnectionState") or {}
    return {
        "target_id": props.get("privateLinkServiceId") or "",
        "status": state.get("status") or "Unknown",
        "description": state.get("description") or "",
    }


def vnet_of(subnet_id: str) -> str:
    """The virtual network id of a subnet id (empty when it is not one)."""
    return subnet_id.rpartition("/subnets/")[0]  # the last: a group may be named "subnets"


def zone_and_record(fqdn: str) -> tuple[str, str] | None:
    """(privatelink zone name, A record name) through which `fqdn` resolves privately.

    `kv.vault.azure.net` -> (`privatelink.vaultcore.azure.net`, `kv`);
    `x.agent.privatelink.prod.migration.windowsazure.com` -> (`privatelink.prod...`, `x.agent`).
    """
    name = fqdn.strip().rstrip(".").lower()
    at = ("." + name).rfind("." + PRIVATELINK)  # zone suffixes hold no privatelink label
    if at == 0:
        return None  # the zone apex itself, not a name inside it
    if at > 0:
        return name[at:], name[: at - 1]
    head, dot, suffix = name.partition(".")
    if not (head and dot and "." in suffix):
        return None
    return PRIVATELINK + PRIVATE_SUFFIX.get(suffix, suffix), head


def connection_fix(status: str) -> str:
    """What to do about a connection that is not Approved (seed 003)."""
    if status.lower() == "pending":
        return "get it approved on the target resource (Networking > Private endpoint connections)"
    return (
        "a rejected or disconnected connection cannot be approved again: delete the private "
        "endpoint and create it again, then get the new connection approved"
    )
