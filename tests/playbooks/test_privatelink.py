"""How diagnose reads private endpoints and private DNS from ARM JSON (privatelink.py): which
endpoints serve the vault, what each summary holds, which zone and A record a name resolves
through, and what the card tells a person to do about a connection that is not Approved.

The endpoint bodies follow the PrivateEndpoint schema of the Network REST API (properties
subnet, privateLinkServiceConnections, manualPrivateLinkServiceConnections,
customDnsConfigs); the ids are the demo estate's."""

from __future__ import annotations

import pytest

from remediation.playbooks import privatelink

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups"
VAULT = f"{SUB}/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-prod-weu"
KEY_VAULT = f"{SUB}/rg-erp-prod/providers/Microsoft.KeyVault/vaults/kv-erp-prod"
STORAGE = f"{SUB}/rg-migration/providers/Microsoft.Storage/storageAccounts/stmigrate"
VNET = f"{SUB}/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub"
PE = f"{SUB}/rg-network/providers/Microsoft.Network/privateEndpoints"


def _link(target: str, status: str | None = None, description: str | None = None) -> dict:
    state = {"status": status, "description": description, "actionsRequired": "None"}
    properties: dict = {"privateLinkServiceId": target, "groupIds": ["AzureBackup"]}
    if status is not None:
        properties["privateLinkServiceConnectionState"] = state
    return {"name": "connection", "properties": properties}


def test_an_endpoint_serves_a_target_through_an_automatic_or_a_manual_connection():
    endpoints = [
        {"id": f"{PE}/pe-storage", "properties": {
            "privateLinkServiceConnections": [_link(STORAGE, "Approved")],
        }},
        {
            "id": f"{PE}/pe-rsv",
            "name": "pe-rsv",
            "properties": {
                "subnet": {"id": f"{VNET}/subnets/snet-pe"},
                "privateLinkServiceConnections": [
                    _link(VAULT.upper(), "Approved", "Auto-approved"),
                    _link(STORAGE, "Approved"),  # another resource: not in the summary
                ],
                "manualPrivateLinkServiceConnections": [_link(KEY_VAULT, "Pending")],
                "customDnsConfigs": [
                    {"fqdn": "rsv-prod-weu.privatelink.westeurope.backup.windowsazure.com",
                     "ipAddresses": ["10.10.1.4", "10.10.1.5"]},
                    {"fqdn": "rsv-prod-weu.queue.core.windows.net"},
                    {"ipAddresses": ["10.10.1.9"]},  # no name: nothing to resolve
                ],
            },
        },
        {  # a connection whose state Azure did not give, on an endpoint with no subnet
            "id": f"{PE}/pe-kv",
            "name": "pe-kv",
            "properties": {"manualPrivateLinkServiceConnections": [_link(KEY_VAULT)]},
        },
        {"id": f"{PE}/pe-empty"},
    ]  # fmt: skip
    assert privatelink.serving(endpoints, [VAULT, None, "", KEY_VAULT]) == [
        {
            "id": f"{PE}/pe-rsv",
            "name": "pe-rsv",
            "vnet_id": VNET,
            "connections": [
                {"target_id": VAULT.upper(), "status": "Approved", "description": "Auto-approved"},
                {"target_id": KEY_VAULT, "status": "Pending", "description": ""},
            ],
            "dns": [
                {"fqdn": "rsv-prod-weu.privatelink.westeurope.backup.windowsazure.com",
                 "ips": ["10.10.1.4", "10.10.1.5"]},
                {"fqdn": "rsv-prod-weu.queue.core.windows.net", "ips": []},
            ],
        },
        {
            "id": f"{PE}/pe-kv",
            "name": "pe-kv",
            "vnet_id": "",
            "connections": [{"target_id": KEY_VAULT, "status": "Unknown", "description": ""}],
            "dns": [],
        },
    ]  # fmt: skip


def test_an_endpoint_with_neither_id_nor_name_is_still_reported():
    endpoint = {"properties": {"privateLinkServiceConnections": [_link(VAULT, "Rejected")]}}
    (found,) = privatelink.serving([endpoint], [VAULT])
    assert (found["id"], found["name"], found["vnet_id"]) == ("", "", "")
    assert privatelink.serving([endpoint], []) == []


@pytest.mark.parametrize(
    ("subnet_id", "vnet_id"),
    [
        (f"{VNET}/subnets/snet-pe", VNET),
        (f"{SUB}/subnets/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-pe",
         f"{SUB}/subnets/providers/Microsoft.Network/virtualNetworks/vnet-hub"),
        (f"{VNET}-2/subnets/subnets", f"{VNET}-2"),
        (VNET, ""),
        ("", ""),
    ],
)  # fmt: skip
def test_the_virtual_network_of_a_subnet_in_any_group_under_any_name(subnet_id, vnet_id):
    """A resource group or a subnet may be named "subnets": the vnet is the id before the
    last /subnets/ segment."""
    assert privatelink.vnet_of(subnet_id) == vnet_id


@pytest.mark.parametrize(
    ("fqdn", "expected"),
    [
        (" kv-erp-prod.vault.azure.net. ", ("privatelink.vaultcore.azure.net", "kv-erp-prod")),
        ("stmigrate.privatelink.blob.core.windows.net",
         ("privatelink.blob.core.windows.net", "stmigrate")),
        ("a.b.privatelink.x.com", ("privatelink.x.com", "a.b")),
        # a storage account named "privatelink": the zone is the last privatelink. label on
        ("privatelink.privatelink.blob.core.windows.net",
         ("privatelink.blob.core.windows.net", "privatelink")),
        ("HOST.PRIVATELINK.CONTOSO.BOX.", ("privatelink.contoso.box", "host")),
        ("x.PRIVATELINK.Y.COM", ("privatelink.y.com", "x")),
        ("stprivatelink.blob.core.windows.net", ("privatelink.blob.core.windows.net",
                                                 "stprivatelink")),
        ("PrivateLink.x.com.", None),
        ("x.com", None),
        (".blob.core.windows.net", None),
        ("", None),
    ],
)  # fmt: skip
def test_the_zone_and_record_a_name_resolves_through(fqdn, expected):
    assert privatelink.zone_and_record(fqdn) == expected


APPROVE = "get it approved on the target resource (Networking > Private endpoint connections)"
RECREATE = (
    "a rejected or disconnected connection cannot be approved again: delete the private "
    "endpoint and create it again, then get the new connection approved"
)


@pytest.mark.parametrize(
    ("status", "fix"),
    [("Pending", APPROVE), ("PENDING", APPROVE), ("Rejected", RECREATE),
     ("Disconnected", RECREATE)],
)  # fmt: skip
def test_what_to_do_about_a_connection_that_is_not_approved(status, fix):
    assert privatelink.connection_fix(status) == fix
