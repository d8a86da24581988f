"""diagnose's findings as the on-call engineer reads them: every check, its verdict, its exact
sentence and the resource it names, and the step notes of the card's timeline.

Each scenario is a realistic estate (the demo network and key vault of `with_network`, then
broken one way) and asserts the whole diagnosis, so a changed word, a lost finding or a finding
that points at the wrong resource fails here. Every expected sentence below was read against
its scenario and is true of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from devtools.simulator.builders import BACKUP_SERVICE_OBJECT_ID
from devtools.simulator.estate import Estate
from devtools.simulator.resources import KeyVault, PrivateDnsZone, PrivateEndpoint
from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload
from tests.playbooks.test_diagnose import (
    KEY_VAULT_DENIED,
    STRANGER,
    findings_of,
    keyvault_alert,
    network_alert,
    with_network,
)

ZONE = "privatelink.westeurope.backup.windowsazure.com"
FQDN = f"rsv-prod-weu.{ZONE}"
VAULT_ZONE = "privatelink.vaultcore.azure.net"
# Backup's VMs resolve a vault's names, Azure Migrate's appliance a project's: either may cache.
FLUSH = (
    "then flush the DNS cache of the machines that resolve it (the old address lives until its "
    "TTL expires)"
)


def diagnosis(pipeline_run) -> tuple[list[tuple], list[tuple[str, str]]]:
    """(check, ok, detail, resource id) of every finding, and each step's note as journaled."""
    findings = [(f["check"], f["ok"], f["detail"], f["resource_id"]) for f in findings_of(
        pipeline_run)]  # fmt: skip
    (run,) = pipeline_run.runs()
    notes = [(j["step"], j.get("note", "")) for j in run["journal"] if j["phase"] != "start"]
    _read_in_french(findings, notes)
    return findings, notes


def _read_in_french(findings: list[tuple], notes: list[tuple[str, str]]) -> None:
    """A French card shows the failing findings and the timeline's notes: every one that the
    scenarios here produce has its French reading (a new wording without one fails here)."""
    from bot.wording import in_language

    said = [detail for _, ok, detail, _ in findings if not ok] + [note for _, note in notes]
    untold = [text for text in said if text and not in_language(text, "fr")]
    assert not untold, f"no French reading for: {untold}"


def estate_of(pipeline_run) -> Estate:
    return pipeline_run.sim.estate


def the(table: dict):
    (only,) = table.values()
    return only


def vm_id(estate: Estate) -> str:
    return the(estate.vms).id


def test_healthy_estate_reads_every_check_as_ok_with_what_it_saw(pipeline):
    ran = pipeline([keyvault_alert()], prepare=with_network())
    estate = estate_of(ran)
    endpoint, zone, key_vault = (
        the(estate.private_endpoints),
        the(estate.dns_zones),
        the(estate.key_vaults),
    )
    findings, notes = diagnosis(ran)
    assert findings == [
        ("vm-agent", True, "agent 2.7.41491.1102: Ready", vm_id(estate)),
        ("key-vault.access-policy", True,
         f"kv-erp-prod access policies for object ids: {BACKUP_SERVICE_OBJECT_ID}", key_vault.id),
        ("private-endpoint.connection", True,
         "pe-rsv-prod-weu -> rsv-prod-weu: connection Approved (Approved by the vault owner)",
         endpoint.id),
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", zone.id),
        ("private-dns.link", True, f"{ZONE} is linked to vnet-hub", zone.id),
        ("private-dns.a-record", True, f"{FQDN} -> 10.10.1.4", f"{zone.id}/A/rsv-prod-weu"),
    ]  # fmt: skip
    assert notes == [
        ("check-vm-agent", "vm-agent: 1 finding(s), 0 not ok"),
        ("check-key-vaults", "key-vault: 1 finding(s), 0 not ok"),
        ("check-private-endpoints", "private-endpoint: 1 finding(s), 0 not ok"),
        ("check-private-dns", "private-dns: 3 finding(s), 0 not ok"),
    ]


def test_broken_agent_connection_link_and_record_each_say_what_to_do(pipeline):
    def broken(estate: Estate) -> None:
        the(estate.vms).agent_ready = False
        the(estate.private_endpoints).status = "Pending"
        zone = the(estate.dns_zones)
        zone.links.clear()
        zone.a_records = {"rsv-prod-weu": ["10.10.9.9", "10.10.9.8"]}

    ran = pipeline([keyvault_alert()], prepare=with_network(broken))
    estate = estate_of(ran)
    endpoint, zone = the(estate.private_endpoints), the(estate.dns_zones)
    findings, notes = diagnosis(ran)
    assert findings[0] == (
        "vm-agent", False,
        "agent Unknown: Not Ready; restart or reinstall the VM agent, then retry the backup",
        vm_id(estate),
    )  # fmt: skip
    assert findings[2:] == [
        ("private-endpoint.connection", False,
         "pe-rsv-prod-weu -> rsv-prod-weu: connection Pending; get it approved on the target "
         "resource (Networking > Private endpoint connections)", endpoint.id),
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", zone.id),
        ("private-dns.link", False,
         f"{ZONE} is not linked to vnet-hub, the endpoint's virtual network: add a virtual "
         "network link, or DNS queries from it ignore the zone", zone.id),
        ("private-dns.a-record", False,
         f"{FQDN} -> 10.10.9.8, 10.10.9.9, but the endpoint's private IP is 10.10.1.4: delete "
         f"the A record, add it again with 10.10.1.4, {FLUSH}", f"{zone.id}/A/rsv-prod-weu"),
    ]  # fmt: skip
    assert notes == [
        ("check-vm-agent", "vm-agent: 1 finding(s), 1 not ok"),
        ("check-key-vaults", "key-vault: 1 finding(s), 0 not ok"),
        ("check-private-endpoints", "private-endpoint: 1 finding(s), 1 not ok"),
        ("check-private-dns", "private-dns: 3 finding(s), 2 not ok"),
    ]


def key_vault_endpoint(status: str):
    """A private endpoint (in the hub network) to the demo key vault, its connection `status`."""

    def add(estate: Estate) -> None:
        key_vault = the(estate.key_vaults)
        estate.add_private_endpoint(
            PrivateEndpoint(
                estate.subscription_id, "rg-network", "pe-kv-erp-prod", key_vault.location,
                key_vault.id, "vault", status=status, ip_address="10.10.1.5",
                fqdn="kv-erp-prod.vault.azure.net",
            )
        )  # fmt: skip

    return add


def test_key_vault_named_in_the_error_is_checked_for_the_denied_principal_and_its_endpoint(
    pipeline,
):
    """Raw text of Key Vault's 403: no VM id, no Backup vault; the key vault it names is found
    by name, lacks a policy for the caller, and its private endpoint was rejected, with no
    privatelink.vaultcore.azure.net zone."""
    signal = parse_payload(KEY_VAULT_DENIED.format(oid=STRANGER))
    ran = pipeline([signal], prepare=with_network(key_vault_endpoint("Rejected")))
    estate = estate_of(ran)
    key_vault = the(estate.key_vaults)
    endpoint = next(e for e in estate.private_endpoints.values() if e.name == "pe-kv-erp-prod")
    findings, notes = diagnosis(ran)
    assert findings == [
        ("key-vault.access-policy", False,
         f"kv-erp-prod has no access policy for {STRANGER}: add one (Key Vault > Access "
         "policies) with the key and secret permissions the operation needs, then retry",
         key_vault.id),
        ("private-endpoint.connection", False,
         "pe-kv-erp-prod -> kv-erp-prod: connection Rejected; a rejected or disconnected "
         "connection cannot be approved again: delete the private endpoint and create it "
         "again, then get the new connection approved", endpoint.id),
        ("private-dns.zone", False,
         f"no private DNS zone {VAULT_ZONE} for kv-erp-prod.vault.azure.net: create it in the "
         "endpoint's resource group and link it to vnet-hub", endpoint.id),
    ]  # fmt: skip
    assert notes == [
        ("check-vm-agent", "no Azure VM to inspect"),
        ("check-key-vaults", "key-vault: 1 finding(s), 1 not ok"),
        ("check-private-endpoints", "private-endpoint: 1 finding(s), 1 not ok"),
        ("check-private-dns", "private-dns: 1 finding(s), 1 not ok"),
    ]


def move_key_vault(group: str, name: str = "kv-erp-prod"):
    def move(estate: Estate) -> None:
        old = the(estate.key_vaults)
        estate.key_vaults.clear()
        estate.add_key_vault(KeyVault(old.subscription_id, group, name, old.location,
                                      old.tenant_id, old.access_policies))  # fmt: skip

    return move


def test_no_key_vault_in_the_incident_groups_names_the_groups_searched(pipeline):
    """The key vault lives in a group neither the VM nor the Backup vault is in, and the
    alert does not name it: the groups searched are listed; the vault's endpoint is still
    checked."""
    ran = pipeline([keyvault_alert()], prepare=with_network(move_key_vault("rg-secrets")))
    findings, notes = diagnosis(ran)
    assert findings[1] == (
        "key-vault", False,
        "no key vault found in rg-backup-prod, rg-erp-prod nor named in the error: check the "
        "key vault the operation uses by hand", None,
    )  # fmt: skip
    assert [f[:2] for f in findings[2:]] == [
        ("private-endpoint.connection", True), ("private-dns.zone", True),
        ("private-dns.link", True), ("private-dns.a-record", True),
    ]  # fmt: skip
    assert notes[1] == ("check-key-vaults", "key-vault: 1 finding(s), 1 not ok")


def test_an_error_naming_no_known_key_vault_and_no_group_checks_nothing_else(pipeline):
    """Raw text naming kv-erp-prod, but the subscription's only key vault is another one: no
    group to search, no key vault to check, no endpoint to look at."""
    signal = parse_payload(KEY_VAULT_DENIED.format(oid=STRANGER))
    ran = pipeline([signal], prepare=with_network(move_key_vault("rg-erp-prod", "kv-erp-dev")))
    findings, notes = diagnosis(ran)
    assert findings == [
        ("key-vault", False,
         "no key vault found in the incident's resource groups nor named in the error: check "
         "the key vault the operation uses by hand", None),
    ]  # fmt: skip
    assert notes == [
        ("check-vm-agent", "no Azure VM to inspect"),
        ("check-key-vaults", "key-vault: 1 finding(s), 1 not ok"),
        ("check-private-endpoints", "private-endpoint: 0 finding(s), 0 not ok"),
        ("check-private-dns", "private-dns: 0 finding(s), 0 not ok"),
    ]


def denied(*routes: str, times: int | None = None, path: str | None = None):
    """The app's identity lacks read permission on these routes (Azure answers 403), on
    every resource or on those whose path matches `path`."""

    def deny(faults) -> None:
        for route in routes:
            faults.error(route, 403, code="AuthorizationFailed", message=f"no {route}",
                         times=times, path=path)  # fmt: skip

    return deny


def could_not(route: str) -> str:
    return f"could not check: 403 AuthorizationFailed: no {route}"


def test_unreadable_vm_key_vault_list_and_endpoints_are_findings_on_what_was_read(pipeline):
    ran = pipeline(
        [keyvault_alert()], prepare=with_network(),
        faults=denied("compute.vm.instance_view", "resources.list",
                      "network.private_endpoints.list"),
    )  # fmt: skip
    estate = estate_of(ran)
    findings, notes = diagnosis(ran)
    assert findings == [
        ("vm-agent", False, could_not("compute.vm.instance_view"), vm_id(estate)),
        ("key-vault", False, could_not("resources.list"), None),
        ("private-endpoint.connection", False, could_not("network.private_endpoints.list"),
         the(estate.vaults).id.lower()),
    ]  # fmt: skip
    assert notes == [
        ("check-vm-agent", "vm-agent: 1 finding(s), 1 not ok"),
        ("check-key-vaults", "key-vault: 1 finding(s), 1 not ok"),
        ("check-private-endpoints", "private-endpoint: 1 finding(s), 1 not ok"),
        ("check-private-dns", "private-dns: 0 finding(s), 0 not ok"),
    ]


def test_unreadable_key_vault_links_and_record_are_findings_and_no_link_verdict(pipeline):
    """Links unreadable: whether the zone is linked is unknown, so no link finding is made."""
    ran = pipeline(
        [keyvault_alert()], prepare=with_network(),
        faults=denied("keyvault.get", "dns.links.list", "dns.records.get"),
    )  # fmt: skip
    estate = estate_of(ran)
    zone = the(estate.dns_zones)
    findings, notes = diagnosis(ran)
    assert findings[1:] == [
        ("key-vault.access-policy", False, could_not("keyvault.get"), the(estate.key_vaults).id),
        ("private-endpoint.connection", True,
         "pe-rsv-prod-weu -> rsv-prod-weu: connection Approved (Approved by the vault owner)",
         the(estate.private_endpoints).id),
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", zone.id),
        ("private-dns.link", False, could_not("dns.links.list"), zone.id),
        ("private-dns.a-record", False, could_not("dns.records.get"),
         f"{zone.id}/A/rsv-prod-weu"),
    ]  # fmt: skip
    assert notes[3] == ("check-private-dns", "private-dns: 3 finding(s), 2 not ok")


def test_unreadable_zone_list_is_one_finding_on_the_first_endpoint(pipeline):
    ran = pipeline([keyvault_alert()], prepare=with_network(), faults=denied("dns.zones.list"))
    estate = estate_of(ran)
    findings, notes = diagnosis(ran)
    assert findings[3:] == [
        ("private-dns.zone", False, could_not("dns.zones.list"), the(estate.private_endpoints).id),
    ]
    assert notes[3] == ("check-private-dns", "private-dns: 1 finding(s), 1 not ok")


HUB_GROUP = "rg-network"  # where the estate's own zone lives


def duplicate_zone(estate: Estate) -> None:
    """A second zone of the same name in another group, listed first, linked to nothing and
    empty (a leftover); the hub's zone is linked and holds the record."""
    hub_zone = the(estate.dns_zones)
    estate.dns_zones.clear()
    estate.add_dns_zone(PrivateDnsZone(estate.subscription_id, "rg-leftover", ZONE))
    estate.add_dns_zone(hub_zone)


def test_of_two_zones_with_the_name_the_linked_one_is_reported_and_its_record_read(pipeline):
    ran = pipeline([keyvault_alert()], prepare=with_network(duplicate_zone))
    leftover, hub_zone = estate_of(ran).dns_zones.values()
    findings, _ = diagnosis(ran)
    assert findings[3:] == [
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", leftover.id),
        ("private-dns.link", True, f"{ZONE} is linked to vnet-hub", hub_zone.id),
        ("private-dns.a-record", True, f"{FQDN} -> 10.10.1.4", f"{hub_zone.id}/A/rsv-prod-weu"),
    ]


def test_one_unreadable_zone_of_two_leaves_the_link_verdict_open(pipeline):
    """The leftover zone's links cannot be read and the hub's zone is not linked: the vnet may
    be linked to the unreadable one, so no "not linked" verdict; the record is read in the
    first zone, where it is missing."""

    def unlinked(estate: Estate) -> None:
        duplicate_zone(estate)
        for zone in estate.dns_zones.values():
            zone.links.clear()

    ran = pipeline([keyvault_alert()], prepare=with_network(unlinked),
                   faults=denied("dns.links.list", times=1))  # fmt: skip
    leftover, _ = estate_of(ran).dns_zones.values()
    findings, _ = diagnosis(ran)
    assert findings[3:] == [
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", leftover.id),
        ("private-dns.link", False, could_not("dns.links.list"), leftover.id),
        ("private-dns.a-record", False,
         f"no A record rsv-prod-weu in {ZONE} for {FQDN}: add one with 10.10.1.4", leftover.id),
    ]  # fmt: skip


def test_a_zone_known_not_to_be_linked_is_not_where_the_record_is_read(pipeline):
    """The leftover zone, listed first, is readable and linked to nothing; the hub's zone's
    links cannot be read. The endpoint's network can only be using the hub's zone, so its
    record is read there, not in the leftover (which would say to add a record that exists)."""

    def leftover_unlinked(estate: Estate) -> None:
        duplicate_zone(estate)
        leftover, _ = estate.dns_zones.values()
        leftover.links.clear()

    hub_links = denied("dns.links.list", path=f"*/resourceGroups/{HUB_GROUP}/*")
    ran = pipeline([keyvault_alert()], prepare=with_network(leftover_unlinked), faults=hub_links)
    leftover, hub_zone = estate_of(ran).dns_zones.values()
    assert hub_zone.resource_group == HUB_GROUP
    findings, _ = diagnosis(ran)
    assert findings[3:] == [
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", leftover.id),
        ("private-dns.link", False, could_not("dns.links.list"), hub_zone.id),
        ("private-dns.a-record", True, f"{FQDN} -> 10.10.1.4", f"{hub_zone.id}/A/rsv-prod-weu"),
    ]


def test_an_empty_record_set_is_a_finding_that_it_points_nowhere(pipeline):
    def emptied(estate: Estate) -> None:
        the(estate.dns_zones).a_records = {"rsv-prod-weu": []}

    ran = pipeline([keyvault_alert()], prepare=with_network(emptied))
    zone = the(estate_of(ran).dns_zones)
    findings, _ = diagnosis(ran)
    assert findings[-1] == (
        "private-dns.a-record", False,
        f"{FQDN} -> nothing, but the endpoint's private IP is 10.10.1.4: delete the A record, "
        f"add it again with 10.10.1.4, {FLUSH}", f"{zone.id}/A/rsv-prod-weu",
    )  # fmt: skip


def second_endpoint_in_a_spoke(estate: Estate) -> None:
    """A second endpoint to the same vault from a spoke network, sharing the hub's zone: the
    zone is linked to the hub only and its A record holds the hub endpoint's IP."""
    hub = the(estate.private_endpoints)
    estate.add_private_endpoint(
        PrivateEndpoint(estate.subscription_id, "rg-spoke", "pe-rsv-prod-weu-spoke",
                        hub.location, hub.target_id, hub.group_id, ip_address="10.20.1.4",
                        fqdn=hub.fqdn)
    )  # fmt: skip


def test_two_endpoints_sharing_one_zone_are_each_checked_and_the_links_read_once(pipeline):
    ran = pipeline([keyvault_alert()], prepare=with_network(second_endpoint_in_a_spoke))
    estate = estate_of(ran)
    hub, spoke = estate.private_endpoints.values()
    zone = the(estate.dns_zones)
    findings, notes = diagnosis(ran)
    record_id = f"{zone.id}/A/rsv-prod-weu"
    assert findings[2:] == [
        ("private-endpoint.connection", True,
         "pe-rsv-prod-weu -> rsv-prod-weu: connection Approved (Approved by the vault owner)",
         hub.id),
        ("private-endpoint.connection", True,
         "pe-rsv-prod-weu-spoke -> rsv-prod-weu: connection Approved (Approved by the vault "
         "owner)", spoke.id),
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", zone.id),
        ("private-dns.link", True, f"{ZONE} is linked to vnet-hub", zone.id),
        ("private-dns.a-record", True, f"{FQDN} -> 10.10.1.4", record_id),
        ("private-dns.zone", True, f"{ZONE} exists for {FQDN}", zone.id),
        ("private-dns.link", False,
         f"{ZONE} is not linked to vnet-hub, the endpoint's virtual network: add a virtual "
         "network link, or DNS queries from it ignore the zone", zone.id),
        ("private-dns.a-record", False,
         f"{FQDN} -> 10.10.1.4, but the endpoint's private IP is 10.20.1.4: delete the A "
         f"record, add it again with 10.20.1.4, {FLUSH}", record_id),
    ]  # fmt: skip
    assert notes[2:] == [
        ("check-private-endpoints", "private-endpoint: 2 finding(s), 0 not ok"),
        ("check-private-dns", "private-dns: 6 finding(s), 2 not ok"),
    ]
    assert ran.sim.requests.count("dns.links.list") == 1


def test_every_key_vault_of_the_workload_group_is_checked(pipeline):
    """The VM's group holds a second key vault (for disk keys), with no access policy yet."""

    def disk_vault(estate: Estate) -> None:
        secrets = the(estate.key_vaults)
        estate.add_key_vault(KeyVault(secrets.subscription_id, "rg-erp-prod", "kv-erp-disk",
                                      secrets.location, secrets.tenant_id))  # fmt: skip

    ran = pipeline([keyvault_alert()], prepare=with_network(disk_vault))
    secrets, disks = estate_of(ran).key_vaults.values()
    findings, notes = diagnosis(ran)
    assert findings[1:3] == [
        ("key-vault.access-policy", True,
         f"kv-erp-prod access policies for object ids: {BACKUP_SERVICE_OBJECT_ID}", secrets.id),
        ("key-vault.access-policy", True, "kv-erp-disk access policies for object ids: none",
         disks.id),
    ]  # fmt: skip
    assert notes[1] == ("check-key-vaults", "key-vault: 2 finding(s), 0 not ok")


def agent_view(**vm_agent: Any):
    """The VM's instance view as Azure returns it, with `vm_agent` as its vmAgent (none when
    empty: a deallocated VM's instance view has no vmAgent)."""

    def patch(estate: Estate) -> None:
        vm = the(estate.vms)
        view = vm.instance_view()
        view.pop("vmAgent")
        if vm_agent:
            view["vmAgent"] = vm_agent
        vm.instance_view = lambda: view

    return patch


def test_a_vm_without_agent_facts_is_a_finding_that_says_none_were_reported(pipeline):
    ran = pipeline([keyvault_alert()], prepare=with_network(agent_view()))
    findings, notes = diagnosis(ran)
    assert findings[0] == (
        "vm-agent", False,
        "agent unknown: no status; restart or reinstall the VM agent, then retry the backup",
        vm_id(estate_of(ran)),
    )  # fmt: skip
    assert notes[0] == ("check-vm-agent", "vm-agent: 1 finding(s), 1 not ok")


@pytest.mark.parametrize("power", ["deallocated", "stopped"])
def test_a_stopped_vms_silent_agent_is_blamed_on_the_vm_being_stopped(pipeline, power):
    """A deallocated VM reports no agent (Azure's instance view then has no vmAgent): the
    cause to fix is the VM being stopped, not the agent."""

    def stopped(estate: Estate) -> None:
        the(estate.vms).power_state = power
        agent_view()(estate)

    ran = pipeline([keyvault_alert()], prepare=with_network(stopped))
    findings, _ = diagnosis(ran)
    assert findings[0] == (
        "vm-agent", False,
        f"the VM is {power}, so its agent cannot answer: start the VM, then retry the backup",
        vm_id(estate_of(ran)),
    )  # fmt: skip


def test_an_instance_view_without_a_power_state_blames_the_agent(pipeline):
    def no_statuses(estate: Estate) -> None:
        agent_view()(estate)
        the(estate.vms).instance_view().pop("statuses")

    findings, _ = diagnosis(pipeline([keyvault_alert()], prepare=with_network(no_statuses)))
    assert findings[0][1:3] == (
        False,
        "agent unknown: no status; restart or reinstall the VM agent, then retry the backup",
    )


def test_an_agent_whose_version_is_null_is_of_unknown_version_not_none(pipeline):
    """Azure may send the version as null; the finding reads as the retry's does."""
    statuses = [{"code": "ProvisioningState/Unavailable", "displayStatus": "Not Ready"}]
    view = agent_view(vmAgentVersion=None, statuses=statuses)
    findings, _ = diagnosis(pipeline([keyvault_alert()], prepare=with_network(view)))
    assert findings[0][2].startswith("agent unknown: Not Ready;")


def test_agent_statuses_without_a_display_text_are_shown_by_their_code(pipeline):
    statuses = [{"code": "ProvisioningState/Unavailable", "level": "Warning"}, {"level": "Info"}]
    ran = pipeline([keyvault_alert()],
                   prepare=with_network(agent_view(statuses=statuses)))  # fmt: skip
    findings, _ = diagnosis(ran)
    assert findings[0][1:3] == (
        False,
        "agent unknown: ProvisioningState/Unavailable, ?; restart or reinstall the VM agent, "
        "then retry the backup",
    )


def test_a_network_error_skips_the_key_vaults_and_checks_the_vault_endpoint(pipeline):
    findings, notes = diagnosis(pipeline([network_alert()], prepare=with_network()))
    assert [f[:2] for f in findings] == [
        ("vm-agent", True), ("private-endpoint.connection", True), ("private-dns.zone", True),
        ("private-dns.link", True), ("private-dns.a-record", True),
    ]  # fmt: skip
    assert notes == [
        ("check-vm-agent", "vm-agent: 1 finding(s), 0 not ok"),
        ("check-key-vaults", "not a key vault error"),
        ("check-private-endpoints", "private-endpoint: 1 finding(s), 0 not ok"),
        ("check-private-dns", "private-dns: 3 finding(s), 0 not ok"),
    ]


@dataclass
class OddEndpoint(PrivateEndpoint):
    """An endpoint whose DNS configuration lists `ips` for its name (any number), and whose
    subnet ARM may leave out."""

    ips: tuple[str, ...] = ()
    subnet: bool = True

    def to_arm(self) -> dict[str, Any]:
        arm = super().to_arm()
        arm["properties"]["customDnsConfigs"][0]["ipAddresses"] = list(self.ips)
        if not self.subnet:
            del arm["properties"]["subnet"]
        return arm


def odd_endpoint(**odd: Any):
    def replace(estate: Estate) -> None:
        hub = the(estate.private_endpoints)
        estate.private_endpoints.clear()
        estate.add_private_endpoint(OddEndpoint(hub.subscription_id, hub.resource_group,
                                                hub.name, hub.location, hub.target_id,
                                                hub.group_id, fqdn=hub.fqdn, **odd))  # fmt: skip

    return replace


def test_a_name_with_two_ips_needs_a_record_holding_both(pipeline):
    def both(estate: Estate) -> None:
        the(estate.dns_zones).a_records = {"rsv-prod-weu": ["10.10.1.5", "10.10.1.4"]}

    ran = pipeline([keyvault_alert()], prepare=with_network(
        odd_endpoint(ips=("10.10.1.5", "10.10.1.4")), both))  # fmt: skip
    findings, _ = diagnosis(ran)
    assert findings[-1][1:3] == (True, f"{FQDN} -> 10.10.1.4, 10.10.1.5")

    one = pipeline([keyvault_alert()], prepare=with_network(
        odd_endpoint(ips=("10.10.1.5", "10.10.1.4"))))  # fmt: skip
    findings, _ = diagnosis(one)
    assert findings[-1][1:3] == (
        False,
        f"{FQDN} -> 10.10.1.4, but the endpoint's private IP is 10.10.1.4, 10.10.1.5: delete "
        f"the A record, add it again with 10.10.1.4, 10.10.1.5, {FLUSH}",
    )


def test_a_name_without_ip_or_record_asks_for_the_endpoint_ip_in_words(pipeline):
    def no_record(estate: Estate) -> None:
        the(estate.dns_zones).a_records.clear()

    ran = pipeline([keyvault_alert()],
                   prepare=with_network(odd_endpoint(ips=()), no_record))  # fmt: skip
    findings, _ = diagnosis(ran)
    assert findings[-1][1:3] == (
        False,
        f"no A record rsv-prod-weu in {ZONE} for {FQDN}: add one with the endpoint's private IP",
    )


def test_an_endpoint_without_its_subnet_names_its_network_as_unknown(pipeline):
    def no_zone(estate: Estate) -> None:
        estate.dns_zones.clear()

    ran = pipeline(
        [keyvault_alert()],
        prepare=with_network(odd_endpoint(ips=("10.10.1.4",), subnet=False), no_zone),
    )
    endpoint = the(estate_of(ran).private_endpoints)
    findings, _ = diagnosis(ran)
    assert findings[-1] == (
        "private-dns.zone", False,
        f"no private DNS zone {ZONE} for {FQDN}: create it in the endpoint's resource group "
        "and link it to (unknown virtual network)", endpoint.id,
    )  # fmt: skip


def test_a_name_no_private_zone_can_hold_is_a_finding(pipeline):
    """The endpoint's DNS configuration lists the zone's apex, not a name inside it."""

    def apex(estate: Estate) -> None:
        the(estate.private_endpoints).fqdn = ZONE

    ran = pipeline([keyvault_alert()], prepare=with_network(apex))
    endpoint = the(estate_of(ran).private_endpoints)
    findings, notes = diagnosis(ran)
    assert findings[3:] == [
        ("private-dns.zone", False,
         f"no private DNS zone can hold {ZONE}: check how it resolves by hand", endpoint.id),
    ]  # fmt: skip
    assert notes[3] == ("check-private-dns", "private-dns: 1 finding(s), 1 not ok")


def test_the_vault_of_the_resource_is_checked_when_the_incident_names_none(sim, arm_clients):
    """An incident opened from raw text knows no vault; a later signal listed the VM's Backup
    item, whose id is inside the vault: that vault's endpoint is the one checked."""
    from remediation.audit import AuditLog
    from remediation.azure.operations import Arm
    from remediation.playbooks.base import RunContext
    from remediation.playbooks.diagnose import check_private_endpoints
    from remediation.store import SqliteStore

    vault = next(v for v in sim.estate.vaults.values() if v.name == "rsv-backup-weu")
    item = (f"{vault.id}/backupFabrics/Azure/protectionContainers/iaasvmcontainerv2;rg-erp-prod;"
            "erp-app-03/protectedItems/vm;iaasvmcontainerv2;rg-erp-prod;erp-app-03")  # fmt: skip
    run: Any = {"target": {"vm": "erp-app-03", "resource_id": item, "vault_id": None,
                           "entry_id": "agent-not-connected", "evidence": None},
                "context": {}}  # fmt: skip
    arm = Arm(arm_clients, AuditLog(SqliteStore(":memory:")), "test")
    check_private_endpoints(RunContext(run, arm, False, lambda: None, None, None))
    endpoint = next(e for e in sim.estate.private_endpoints.values() if e.target_id == vault.id)
    assert run["context"]["findings"] == [
        {"check": "private-endpoint.connection", "ok": True,
         "detail": "pe-rsv-backup-weu -> rsv-backup-weu: connection Approved (Approved by the "
         "vault owner)", "resource_id": endpoint.id},
    ]  # fmt: skip


def test_no_endpoint_for_the_vault_nor_the_key_vault_names_both(pipeline):
    def no_endpoint(estate: Estate) -> None:
        estate.private_endpoints.clear()

    ran = pipeline([keyvault_alert()], prepare=with_network(no_endpoint))
    findings, notes = diagnosis(ran)
    assert findings[2:] == [
        ("private-endpoint.connection", True,
         "no private endpoint serves rsv-prod-weu, kv-erp-prod",
         the(estate_of(ran).vaults).id.lower()),
    ]  # fmt: skip
    assert notes[2:] == [
        ("check-private-endpoints", "private-endpoint: 1 finding(s), 0 not ok"),
        ("check-private-dns", "private-dns: 0 finding(s), 0 not ok"),
    ]


def test_an_alert_naming_no_vault_searches_the_vm_group_alone(pipeline):
    """Key vault alert whose essentials lost alertTargetIDs: the VM is known, its vault is not."""
    payload = backup_alert_payload(
        "erp-app-03", code="UserErrorKeyvaultPermissionsNotConfigured",
        description="Backup doesn't have sufficient permissions to the key vault.",
    )  # fmt: skip
    del payload["data"]["essentials"]["alertTargetIDs"]
    ran = pipeline([parse_payload(payload)], prepare=with_network(move_key_vault("rg-secrets")))
    findings, notes = diagnosis(ran)
    assert findings[1:] == [
        ("key-vault", False,
         "no key vault found in rg-erp-prod nor named in the error: check the key vault the "
         "operation uses by hand", None),
    ]  # fmt: skip
    assert notes[2] == ("check-private-endpoints", "private-endpoint: 0 finding(s), 0 not ok")


def test_a_vm_beyond_the_incident_evidence_sample_is_still_checked(pipeline):
    """Six VMs fail on the key vault; an incident keeps the evidence of five: the sixth VM's
    run has no error text, and its key vault is still found by its group and checked."""
    alerts = [
        parse_payload(backup_alert_payload(
            f"erp-app-0{n}", code="UserErrorKeyvaultPermissionsNotConfigured",
            description="Backup doesn't have sufficient permissions to the key vault.",
        ))
        for n in range(1, 7)
    ]  # fmt: skip
    ran = pipeline(alerts, prepare=with_network())
    runs = ran.runs()
    assert len(runs) == 6 and [r["target"]["evidence"] is None for r in runs].count(True) == 1
    key_vault = the(estate_of(ran).key_vaults)
    for run in runs:
        assert run["state"] == "succeeded"
        policy = next(f for f in run["context"]["findings"] if f["check"].startswith("key-vault"))
        assert (policy["ok"], policy["resource_id"]) == (True, key_vault.id)
