"""How diagnose reads key vaults (keyvaults.py): which catalogue errors are key vault errors,
the caller Key Vault's own 403 names, which vault an error mentions, and the access-policy
finding a person reads on the card, word for word, for each kind of vault.

The denial texts are shaped like Key Vault's 403 ("The user, group or application
'appid=...;oid=...;iss=...' does not have ... permission on key vault '<name>;location=...'")
and the vault bodies like the Key Vault REST API's Vault (properties accessPolicies,
enableRbacAuthorization)."""

from __future__ import annotations

import pytest

from remediation.playbooks import keyvaults

OID = "3d8c2a6e-5f4b-4c1d-9e8f-7a6b5c4d3e2f"
BACKUP = "f40e18f0-6544-45c2-9d24-639a8bb3b41a"
KV_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-erp-prod/providers/"
    "Microsoft.KeyVault/vaults/kv-erp-prod"
)
DENIED = (
    "Operation returned an invalid status code 'Forbidden'. The user, group or application "
    "'appid=0b5e1bb1-9d33-4c8a-a1b6-0e5d6f7a8b9c;oid={oid};iss=https://sts.windows.net/x/' "
    "does not have secrets set permission on key vault 'kv-erp-prod;location=westeurope'."
)


@pytest.mark.parametrize(
    ("entry_id", "is_key_vault"),
    [
        ("keyvault-operation-failed", True),
        ("forbidden-to-access-keyvault", True),
        ("backup-keyvault-permissions-not-configured", True),
        ("changed-blocks-fetch-failed", False),
        ("", False),
        (None, False),
    ],
)
def test_key_vault_errors_are_known_by_their_catalogue_id(entry_id, is_key_vault):
    assert keyvaults.is_key_vault_entry(entry_id) is is_key_vault


@pytest.mark.parametrize(
    ("text", "principal"),
    [
        (DENIED.format(oid=OID), OID),
        (DENIED.format(oid=OID.upper()), OID),
        (f"Access denied to object id {OID}.", OID),
        (f"Access denied. Object ID: '{OID}'", OID),
        (f"the objectid={OID} has no policy", OID),
        (f"appid={OID};iss=https://sts.windows.net/x/", None),  # an app id, not the caller
        (f"poid={OID}", None),
        ("Backup doesn't have sufficient permissions to the key vault", None),
    ],
)
def test_the_caller_a_key_vault_denial_names(text, principal):
    assert keyvaults.principal_in(text) == principal


@pytest.mark.parametrize(
    ("name", "text", "mentioned"),
    [
        ("kv-erp-prod", DENIED.format(oid=OID), True),
        ("KV-ERP-PROD", DENIED.format(oid=OID), True),
        ("kv-erp", DENIED.format(oid=OID), False),
        ("erp-prod", DENIED.format(oid=OID), False),
        ("kv-erp-prod", "Key Vault: kv-erp-prod, Storage Account: stmigrate failed", True),
        ("kv-erp-prod", "Key Vault: kv-erp-prod2 failed", False),
        ("kv-erp-prod", "", False),
    ],
)
def test_a_vault_is_mentioned_only_under_its_whole_name(name, text, mentioned):
    assert keyvaults.mentioned(name, text) is mentioned


def _vault(policies=None, rbac=None, name="kv-erp-prod") -> dict:
    properties: dict = {"tenantId": "t", "accessPolicies": policies}
    if rbac is not None:
        properties["enableRbacAuthorization"] = rbac
    return {"id": KV_ID, "name": name, "properties": properties}


def _policy(object_id, **permissions) -> dict:
    return {"tenantId": "t", "objectId": object_id, "permissions": permissions}


def _read(found: dict) -> tuple[bool, str]:
    assert set(found) == {"check", "ok", "detail", "resource_id"}
    assert (found["check"], found["resource_id"]) == ("key-vault.access-policy", KV_ID)
    return found["ok"], found["detail"]


@pytest.mark.parametrize(
    ("vault", "principal", "ok", "detail"),
    [
        (_vault(rbac=True), OID, True,
         f"kv-erp-prod uses Azure RBAC, so access policies do not apply: check its role "
         f"assignments for {OID} (Key Vault Secrets/Crypto roles)"),
        (_vault([_policy(OID, secrets=["Get"])], rbac=True), None, True,
         "kv-erp-prod uses Azure RBAC, so access policies do not apply: check its role "
         "assignments (Key Vault Secrets/Crypto roles)"),
        (_vault([_policy(OID, secrets=["Get"]), _policy(BACKUP, keys=["Get"]),
                 _policy(OID, keys=["List"]), {"permissions": {}}], rbac=False), None, True,
         f"kv-erp-prod access policies for object ids: {OID}, ?, {BACKUP}"),
        (_vault([]), None, True, "kv-erp-prod access policies for object ids: none"),
        (_vault(), None, True, "kv-erp-prod access policies for object ids: none"),
        (_vault([_policy(BACKUP, keys=["Get"])]), OID, False,
         f"kv-erp-prod has no access policy for {OID}: add one (Key Vault > Access policies) "
         "with the key and secret permissions the operation needs, then retry"),
        (_vault([_policy(BACKUP, keys=["Get"]), _policy(OID.upper(), secrets=["Get", "List"],
                 keys=["Get", "List", "Backup"], certificates=[], storage=None)]), OID, True,
         f"kv-erp-prod has an access policy for {OID}: keys Get, List, Backup; secrets Get, List"),
        (_vault([{"objectId": OID, "permissions": {"keys": [], "secrets": []}}]), OID, False,
         f"kv-erp-prod has an access policy for {OID} that grants nothing: add the key and "
         "secret permissions the operation needs, then retry"),
        (_vault([{"objectId": OID}]), OID, False,
         f"kv-erp-prod has an access policy for {OID} that grants nothing: add the key and "
         "secret permissions the operation needs, then retry"),
        (_vault(name=None), None, True, "key vault access policies for object ids: none"),
    ],
)  # fmt: skip
def test_the_access_policy_finding_says_what_to_do_for_each_kind_of_vault(
    vault, principal, ok, detail
):
    assert _read(keyvaults.access_policy_finding(vault, principal)) == (ok, detail)


def test_a_vault_body_without_properties_lists_no_policies():
    found = keyvaults.access_policy_finding({"id": KV_ID, "name": "kv-erp-prod"}, OID)
    assert _read(found) == (
        False,
        f"kv-erp-prod has no access policy for {OID}: add one (Key Vault > Access policies) "
        "with the key and secret permissions the operation needs, then retry",
    )
