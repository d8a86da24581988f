"""diagnose end to end: real SDK clients against the simulator; it reads, it never writes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devtools.simulator.builders import (
    BACKUP_SERVICE_OBJECT_ID,
    add_network_and_key_vault,
)
from devtools.simulator.estate import Estate
from devtools.simulator.resources import Vault
from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload

# The VM prefix gives the signal a VM: the engine hands a run only the evidence of its VM.
KEY_VAULT_DENIED = (
    "VM: erp-app-03. Error: Azure Key Vault create or update operation failed for kv-erp-prod "
    "due to the error "
    "Operation returned an invalid status code 'Forbidden'. The user, group or application "
    "'appid=0b5e1bb1-9d33-4c8a-a1b6-0e5d6f7a8b9c;oid={oid};iss=https://sts.windows.net/x/' "
    "does not have secrets set permission on key vault 'kv-erp-prod;location=westeurope'."
)
STRANGER = "3d8c2a6e-5f4b-4c1d-9e8f-7a6b5c4d3e2f"


def keyvault_alert():
    """A Backup alert for an encrypted VM whose key vault Backup cannot read."""
    return erp_app_alert(
        "UserErrorKeyvaultPermissionsNotConfigured",
        "Backup doesn't have sufficient permissions to the key vault for backup of encrypted VMs.",
    )


def network_alert():
    """A Backup alert for a VM whose snapshot could not reach the network."""
    return erp_app_alert(
        "ExtensionSnapshotFailedNoNetwork",
        "Snapshot operation failed due to no network connectivity on the virtual machine",
    )


def erp_app_alert(code: str, description: str):
    return parse_payload(backup_alert_payload("erp-app-03", code=code, description=description))


def with_network(*breakages: Callable[[Estate], None]) -> Callable[[Estate], None]:
    """The demo network and key vault next to the signal's vault, then `breakages` applied."""

    def prepare(estate: Estate) -> None:
        vault = next(iter(estate.vaults.values()), None)
        if vault is None:  # raw text names no vault: give the endpoint one to serve
            vault = estate.add_vault(
                Vault(estate.subscription_id, "rg-backup", "rsv", "westeurope")
            )
        add_network_and_key_vault(estate, vault, "rg-erp-prod")
        for breakage in breakages:
            breakage(estate)

    return prepare


def findings_of(pipeline_run) -> list[dict]:
    (run,) = pipeline_run.runs()
    assert (run["playbook"], run["state"]) == ("diagnose", "succeeded"), run["failure"]
    assert pipeline_run.sim.requests.writes == 0
    entries = pipeline_run.engine.audit.entries()
    assert not [e for e in entries if e["action"].startswith("Microsoft.")]  # no ARM write
    return run["context"]["findings"]


def by_check(findings: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for f in findings:
        grouped.setdefault(f["check"], []).append(f)
    return grouped


def only(findings: list[dict], check: str) -> dict:
    (found,) = by_check(findings)[check]
    return found


def test_healthy_estate_gives_only_ok_findings_and_no_writes(pipeline):
    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network()))
    assert sorted(by_check(findings)) == [
        "key-vault.access-policy", "private-dns.a-record", "private-dns.link",
        "private-dns.zone", "private-endpoint.connection", "vm-agent",
    ]  # fmt: skip
    assert all(f["ok"] for f in findings), findings
    assert all(set(f) == {"check", "ok", "detail", "resource_id"} for f in findings)
    policy = only(findings, "key-vault.access-policy")
    assert BACKUP_SERVICE_OBJECT_ID in policy["detail"]  # no principal named: listed as info
    assert policy["resource_id"].endswith("/vaults/kv-erp-prod")
    record = only(findings, "private-dns.a-record")
    assert record["detail"].endswith("-> 10.10.1.4")
    assert record["resource_id"].endswith("/A/rsv-prod-weu")


def _endpoints(estate: Estate):
    return list(estate.private_endpoints.values())


def _zones(estate: Estate):
    return list(estate.dns_zones.values())


def test_pending_endpoint_connection_is_a_finding_with_the_fix(pipeline):
    def pending(estate: Estate) -> None:
        _endpoints(estate)[0].status = "Pending"

    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network(pending)))
    connection = only(findings, "private-endpoint.connection")
    assert connection["ok"] is False
    assert "connection Pending" in connection["detail"] and "approved" in connection["detail"]
    assert connection["resource_id"].endswith("/privateEndpoints/pe-rsv-prod-weu")
    assert [f["check"] for f in findings if not f["ok"]] == ["private-endpoint.connection"]


@pytest.mark.parametrize("status", ["Rejected", "Disconnected"])
def test_rejected_or_disconnected_connection_asks_for_a_new_endpoint(pipeline, status):
    def broken(estate: Estate) -> None:
        _endpoints(estate)[0].status = status

    connection = only(
        findings_of(pipeline([keyvault_alert()], prepare=with_network(broken))),
        "private-endpoint.connection",
    )
    assert connection["ok"] is False
    assert f"connection {status}" in connection["detail"]
    assert "create it again" in connection["detail"]


def test_zone_not_linked_to_the_endpoint_vnet_is_a_finding(pipeline):
    def unlinked(estate: Estate) -> None:
        _zones(estate)[0].links.clear()

    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network(unlinked)))
    link = only(findings, "private-dns.link")
    assert link["ok"] is False
    assert "not linked to vnet-hub" in link["detail"]
    assert [f["check"] for f in findings if not f["ok"]] == ["private-dns.link"]


def test_a_record_with_another_ip_is_a_finding(pipeline):
    def wrong_ip(estate: Estate) -> None:
        zone = _zones(estate)[0]
        zone.a_records = {name: ["10.10.9.9"] for name in zone.a_records}

    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network(wrong_ip)))
    record = only(findings, "private-dns.a-record")
    assert record["ok"] is False
    assert "-> 10.10.9.9" in record["detail"] and "private IP is 10.10.1.4" in record["detail"]
    assert [f["check"] for f in findings if not f["ok"]] == ["private-dns.a-record"]


def test_missing_zone_and_missing_a_record_are_findings(pipeline):
    def no_record(estate: Estate) -> None:
        _zones(estate)[0].a_records.clear()

    record = only(
        findings_of(pipeline([keyvault_alert()], prepare=with_network(no_record))),
        "private-dns.a-record",
    )
    assert record["ok"] is False and "no A record rsv-prod-weu" in record["detail"]

    def no_zone(estate: Estate) -> None:
        estate.dns_zones.clear()

    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network(no_zone)))
    zone = only(findings, "private-dns.zone")
    assert zone["ok"] is False
    assert "no private DNS zone privatelink.westeurope.backup.windowsazure.com" in zone["detail"]
    assert "private-dns.link" not in by_check(findings)


def test_key_vault_without_a_policy_for_the_denied_principal_is_a_finding(pipeline):
    signal = parse_payload(KEY_VAULT_DENIED.format(oid=STRANGER))
    findings = findings_of(pipeline([signal], prepare=with_network()))
    policy = only(findings, "key-vault.access-policy")
    assert policy["ok"] is False
    assert f"kv-erp-prod has no access policy for {STRANGER}" in policy["detail"]
    # no vault in the raw text; the key vault it names has no private endpoint
    endpoint = only(findings, "private-endpoint.connection")
    assert endpoint["ok"] and "no private endpoint serves kv-erp-prod" in endpoint["detail"]


def test_key_vault_with_a_policy_for_the_denied_principal_is_ok(pipeline):
    signal = parse_payload(KEY_VAULT_DENIED.format(oid=BACKUP_SERVICE_OBJECT_ID))
    policy = only(
        findings_of(pipeline([signal], prepare=with_network())), "key-vault.access-policy"
    )
    assert policy["ok"] is True
    assert "keys Get, List, Backup" in policy["detail"]


def test_non_key_vault_errors_skip_the_key_vault_check(pipeline):
    findings = findings_of(pipeline([network_alert()], prepare=with_network()))
    assert not any(f["check"].startswith("key-vault") for f in findings)
    assert only(findings, "private-endpoint.connection")["ok"]


def test_an_arm_error_on_one_check_is_a_finding_and_the_others_still_run(pipeline):
    def deny_dns(faults) -> None:
        faults.error("dns.zones.list", 403, code="AuthorizationFailed", message="no read")

    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network(), faults=deny_dns))
    zone = only(findings, "private-dns.zone")
    assert zone["ok"] is False
    assert zone["detail"].startswith("could not check: 403 AuthorizationFailed: no read")
    assert only(findings, "private-endpoint.connection")["ok"]
    assert only(findings, "vm-agent")["ok"]


def test_vm_agent_not_ready_is_a_finding(pipeline):
    def agent_down(estate: Estate) -> None:
        next(iter(estate.vms.values())).agent_ready = False

    findings = findings_of(pipeline([keyvault_alert()], prepare=with_network(agent_down)))
    agent = only(findings, "vm-agent")
    assert agent["ok"] is False and "Not Ready" in agent["detail"]
