"""The pure parts of diagnose: privatelink zone names, endpoint summaries, key vault text."""

from __future__ import annotations

import pytest

from remediation.playbooks import keyvaults, privatelink


@pytest.mark.parametrize(
    ("fqdn", "expected"),
    [
        ("kv-erp.vault.azure.net", ("privatelink.vaultcore.azure.net", "kv-erp")),
        ("stmigrate.blob.core.windows.net.", ("privatelink.blob.core.windows.net", "stmigrate")),
        (
            "04b8-agent.cus.disc.privatelink.prod.migration.windowsazure.com",
            ("privatelink.prod.migration.windowsazure.com", "04b8-agent.cus.disc"),
        ),
        ("RSV.PrivateLink.WestEurope.Backup.WindowsAzure.com", (
            "privatelink.westeurope.backup.windowsazure.com", "rsv",
        )),
        ("privatelink.blob.core.windows.net", None),
        ("localhost", None),
        ("host.local", None),
    ],
)  # fmt: skip
def test_zone_and_record_names(fqdn, expected):
    assert privatelink.zone_and_record(fqdn) == expected


def test_serving_keeps_only_connections_to_the_targets_manual_ones_included():
    vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
    endpoint = {
        "id": "pe-id",
        "name": "pe",
        "properties": {
            "subnet": {"id": "/x/virtualNetworks/vnet/subnets/snet"},
            "privateLinkServiceConnections": [
                {"properties": {"privateLinkServiceId": "/other"}},
            ],
            "manualPrivateLinkServiceConnections": [
                {
                    "properties": {
                        "privateLinkServiceId": vault.upper(),
                        "privateLinkServiceConnectionState": {"status": "Pending"},
                    }
                }
            ],
            "customDnsConfigs": [{"fqdn": "v.x.com", "ipAddresses": ["10.0.0.5"]}, {"fqdn": ""}],
        },
    }
    (found,) = privatelink.serving([endpoint, {"properties": {}}], [vault])
    assert found["vnet_id"] == "/x/virtualNetworks/vnet"
    assert [c["status"] for c in found["connections"]] == ["Pending"]
    assert found["dns"] == [{"fqdn": "v.x.com", "ips": ["10.0.0.5"]}]
    assert privatelink.serving([endpoint], ["/nothing"]) == []


def test_principal_and_vault_names_in_error_text():
    oid = "3d8c2a6e-5f4b-4c1d-9e8f-7a6b5c4d3e2f"
    assert keyvaults.principal_in(f"'appid=x;oid={oid.upper()};iss=y'") == oid
    assert keyvaults.principal_in(f"object id: {oid}") == oid
    assert keyvaults.principal_in("no principal here") is None
    assert keyvaults.mentioned("kv-erp", "on key vault 'kv-erp;location=westeurope'")
    assert not keyvaults.mentioned("kv-erp", "on key vault 'kv-erp-prod;location=westeurope'")


def test_rbac_vaults_are_reported_as_such():
    vault = {"id": "kv-id", "name": "kv", "properties": {"enableRbacAuthorization": True}}
    found = keyvaults.access_policy_finding(vault, "p")
    assert found["ok"] and "Azure RBAC" in found["detail"] and "for p" in found["detail"]
