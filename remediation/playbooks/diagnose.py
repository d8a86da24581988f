"""diagnose: read-only checks reported as findings; it never changes anything.

Covers the network and key vault errors (seeds 003 and 004): the VM agent as Azure sees it
(instance view); for key vault errors, the access policies of the key vaults in the incident's
resource groups or named in the error; the private endpoints that serve the vault (or those
key vaults): connection Approved; and for each endpoint FQDN, its `privatelink.*` zone exists,
is linked to the endpoint's virtual network and holds an A record with the endpoint's IP.
Findings go to `ctx.state["findings"]` as {check, ok, detail, resource_id}.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from remediation.playbooks import keyvaults, privatelink, verify
from remediation.playbooks.base import Playbook, RunContext, Step, StepResult
from remediation.playbooks.findings import Finding, finding, guarded, record
from remediation.signals.arm_id import ArmId

RETRY = "then retry the backup"


def check_vm_agent(ctx: RunContext) -> StepResult:
    vm_id = ctx.target.get("resource_id")
    if not vm_id or "/virtualmachines/" not in vm_id.lower():
        return StepResult.next("no Azure VM to inspect")
    view, found = guarded("vm-agent", vm_id, lambda: ctx.arm.instance_view(vm_id))
    if view is not None:
        found = [finding("vm-agent", *_agent_state(view), vm_id)]
    return StepResult.next(record(ctx, "vm-agent", found))


def _agent_state(view: dict[str, Any]) -> tuple[bool, str]:
    """(ready, what to tell): a stopped VM's agent is silent because the VM is stopped."""
    version, shown = verify.agent_version(view), verify.agent_statuses(view)
    if verify.agent_ready(view):
        return True, f"agent {version}: {', '.join(shown)}"
    power = verify.power_state(view)
    if power not in (None, "running"):
        return False, f"the VM is {power}, so its agent cannot answer: start the VM, " + RETRY
    return False, (
        f"agent {version}: {', '.join(shown) or 'no status'}; "
        "restart or reinstall the VM agent, " + RETRY
    )


def check_key_vaults(ctx: RunContext) -> StepResult:
    """Only for key vault errors; the vaults found are also checked for private endpoints."""
    text = _evidence_text(ctx)
    if not keyvaults.is_key_vault_entry(ctx.target.get("entry_id")):
        return StepResult.next("not a key vault error")
    vaults, found = guarded("key-vault", None, lambda: ctx.arm.list_key_vaults())
    groups = {_group(ctx.target.get("vault_id")), _group(ctx.target.get("resource_id"))} - {""}
    chosen = [
        v for v in vaults or [] if _group(v["id"]) in groups or keyvaults.mentioned(v["name"], text)
    ]
    ctx.state["key_vaults"] = [v["id"] for v in chosen]
    if vaults is not None and not chosen:
        where = ", ".join(sorted(groups)) or "the incident's resource groups"
        found.append(
            finding(
                "key-vault",
                False,
                f"no key vault found in {where} nor named in the error: check the key vault "
                "the operation uses by hand",
            )
        )
    principal = keyvaults.principal_in(text)
    for vault_id in ctx.state["key_vaults"]:
        vault, failed = guarded(keyvaults.CHECK, vault_id, partial(ctx.arm.get_key_vault, vault_id))
        found += failed or [keyvaults.access_policy_finding(vault, principal)]
    return StepResult.next(record(ctx, "key-vault", found))


def check_private_endpoints(ctx: RunContext) -> StepResult:
    targets = [t for t in (_vault_id(ctx), *ctx.state.get("key_vaults", [])) if t]
    serving: list[dict[str, Any]] = []
    found: list[Finding] = []
    if targets:
        check = "private-endpoint.connection"
        endpoints, found = guarded(check, targets[0], lambda: ctx.arm.list_private_endpoints())
        if endpoints is not None:
            serving = privatelink.serving(endpoints, targets)
            found = [_connection_finding(e, c) for e in serving for c in e["connections"]]
            if not serving:
                names = ", ".join(_name(t) for t in targets)
                found = [finding(check, True, f"no private endpoint serves {names}", targets[0])]
    ctx.state["private_endpoints"] = serving
    return StepResult.next(record(ctx, "private-endpoint", found))


def _connection_finding(endpoint: dict[str, Any], connection: dict[str, str]) -> Finding:
    status = connection["status"]
    detail = f"{endpoint['name']} -> {_name(connection['target_id'])}: connection {status}"
    if status.lower() != "approved":
        detail += f"; {privatelink.connection_fix(status)}"
    elif connection["description"]:
        detail += f" ({connection['description']})"
    return finding(
        "private-endpoint.connection", status.lower() == "approved", detail, endpoint["id"]
    )


def check_private_dns(ctx: RunContext) -> StepResult:
    endpoints = ctx.state.get("private_endpoints") or []
    names = [(e, d) for e in endpoints for d in e["dns"]]
    if not names:
        return StepResult.next(record(ctx, "private-dns", []))
    zones, found = guarded(
        "private-dns.zone", endpoints[0]["id"], lambda: ctx.arm.list_private_dns_zones()
    )
    if zones is not None:
        links: dict[str, Any] = {}  # zone id -> its links (None when unreadable), read once
        for endpoint, dns in names:
            found += _dns_findings(ctx, endpoint, dns, zones, links)
    return StepResult.next(record(ctx, "private-dns", found))


def _dns_findings(ctx, endpoint, dns, zones, links) -> list[Finding]:
    fqdn, ips = dns["fqdn"], sorted(dns["ips"])
    parsed = privatelink.zone_and_record(fqdn)
    if parsed is None:
        return [
            finding(
                "private-dns.zone",
                False,
                f"no private DNS zone can hold {fqdn}: check how it resolves by hand",
                endpoint["id"],
            )
        ]
    zone_name, name = parsed
    candidates = [z for z in zones if (z.get("name") or "").lower() == zone_name]
    if not candidates:
        return [
            finding(
                "private-dns.zone",
                False,
                f"no private DNS zone {zone_name} for {fqdn}: create it in the endpoint's "
                f"resource group and link it to {_vnet_name(endpoint)}",
                endpoint["id"],
            )
        ]
    found = [
        finding("private-dns.zone", True, f"{zone_name} exists for {fqdn}", candidates[0]["id"])
    ]
    linked, unreadable = [], False
    for zone in candidates:
        if zone["id"] not in links:
            links[zone["id"]], failed = guarded(
                "private-dns.link",
                zone["id"],
                partial(ctx.arm.list_virtual_network_links, zone["id"]),
            )
            found += failed
        unreadable |= links[zone["id"]] is None
        if endpoint["vnet_id"].lower() in _linked_vnets(links[zone["id"]] or []):
            linked.append(zone)
    vnet = _vnet_name(endpoint)
    if linked:
        found.append(
            finding("private-dns.link", True, f"{zone_name} is linked to {vnet}", linked[0]["id"])
        )
    elif not unreadable:
        found.append(
            finding(
                "private-dns.link",
                False,
                f"{zone_name} is not linked to {vnet}, the endpoint's virtual network: add a "
                "virtual network link, or DNS queries from it ignore the zone",
                candidates[0]["id"],
            )
        )
    # The network resolves through a linked zone; failing that, one whose links are unknown
    # may be it, while one known not to be linked cannot be.
    maybe_linked = [z for z in candidates if links[z["id"]] is None]
    zone = (linked or maybe_linked or candidates)[0]
    return found + _a_record_findings(ctx, zone, name, fqdn, ips)


def _a_record_findings(ctx, zone, name, fqdn, ips) -> list[Finding]:
    record_id = f"{zone['id']}/A/{name}"
    record_set, failed = guarded(
        "private-dns.a-record", record_id, lambda: ctx.arm.get_a_record(zone["id"], name)
    )
    if failed:
        return failed
    wanted = ", ".join(ips) or "the endpoint's private IP"
    if record_set is None:
        return [
            finding(
                "private-dns.a-record",
                False,
                f"no A record {name} in {zone['name']} for {fqdn}: add one with {wanted}",
                zone["id"],
            )
        ]
    props = record_set.get("properties") or {}
    held = sorted(a.get("ipv4Address") or "" for a in props.get("aRecords") or [])
    if held == ips:
        return [finding("private-dns.a-record", True, f"{fqdn} -> {', '.join(held)}", record_id)]
    return [
        finding(
            "private-dns.a-record",
            False,
            f"{fqdn} -> {', '.join(held) or 'nothing'}, but the endpoint's private IP is "
            f"{wanted}: delete the A record, add it again with {wanted}, then flush the DNS "
            "cache of the machines that resolve it (the old address lives until its TTL expires)",
            record_id,
        )
    ]


def _linked_vnets(links: list[dict[str, Any]]) -> set[str]:
    return {
        (((link.get("properties") or {}).get("virtualNetwork") or {}).get("id") or "").lower()
        for link in links
    }


def _evidence_text(ctx: RunContext) -> str:
    """The error's message: where Key Vault names the denied caller and the key vault (the
    error codes are identifiers that name neither)."""
    evidence = ctx.target.get("evidence")
    return evidence["message"] if evidence else ""


def _vault_id(ctx: RunContext) -> str | None:
    arm = ArmId.parse(ctx.target.get("resource_id"))
    return ctx.target.get("vault_id") or (arm.vault_id if arm else None)


def _group(resource_id: str | None) -> str:
    """The resource group of an id, lower-cased ("" when there is none)."""
    arm = ArmId.parse(resource_id)
    return (arm.resource_group or "").lower() if arm else ""


def _name(resource_id: str) -> str:
    """The last segment of an ARM id: the resource's name."""
    return resource_id.rpartition("/")[2]


def _vnet_name(endpoint: dict[str, Any]) -> str:
    return _name(endpoint["vnet_id"]) or "(unknown virtual network)"


PLAYBOOK = Playbook(
    "diagnose",
    (
        Step("check-vm-agent", check_vm_agent),
        Step("check-key-vaults", check_key_vaults),
        Step("check-private-endpoints", check_private_endpoints),
        Step("check-private-dns", check_private_dns),
    ),
    "Read-only checks reported on the card: VM agent, key vault access policies, private "
    "endpoint connections, private DNS zones, links and A records.",
)
