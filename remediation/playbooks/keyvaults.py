"""Key vault access policies, read from ARM JSON and the error text: pure functions, no calls.

Key Vault's own 403 names the caller (`... 'appid=...;oid=<object id>;iss=...' does not have
... permission on key vault '<name>;location=...'`), so when the evidence quotes it, the
principal that needs an access policy is known; otherwise the policies are only listed.
"""

from __future__ import annotations

import re
from typing import Any

from remediation.playbooks.findings import Finding, finding

GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PRINCIPAL = re.compile(rf"(?:\boid=|\bobject\s?id\W{{0,3}})({GUID})", re.IGNORECASE)
CHECK = "key-vault.access-policy"


def is_key_vault_entry(entry_id: str | None) -> bool:
    """The catalogue's key vault errors all carry it in their id (keyvault-*, *-keyvault-*)."""
    return bool(entry_id and "keyvault" in entry_id)


def principal_in(text: str) -> str | None:
    """The object id of the caller a Key Vault error names, if it names one."""
    found = PRINCIPAL.search(text)
    return found.group(1).lower() if found else None


def mentioned(name: str, text: str) -> bool:
    """True when `name` appears in `text` as a whole key vault name (names hold hyphens)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE) is not None


def access_policy_finding(vault: dict[str, Any], principal: str | None) -> Finding:
    props = vault.get("properties") or {}
    vault_id, name = vault.get("id"), vault.get("name") or "key vault"
    policies = props.get("accessPolicies") or []
    if props.get("enableRbacAuthorization"):
        who = f" for {principal}" if principal else ""
        return finding(
            CHECK,
            True,
            f"{name} uses Azure RBAC, so access policies do not apply: check its role "
            f"assignments{who} (Key Vault Secrets/Crypto roles)",
            vault_id,
        )
    if principal is None:
        ids = ", ".join(sorted({p.get("objectId") or "?" for p in policies})) or "none"
        return finding(CHECK, True, f"{name} access policies for object ids: {ids}", vault_id)
    mine = [p for p in policies if (p.get("objectId") or "").lower() == principal]
    if not mine:
        return finding(
            CHECK,
            False,
            f"{name} has no access policy for {principal}: add one (Key Vault > Access "
            "policies) with the key and secret permissions the operation needs, then retry",
            vault_id,
        )
    granted = "; ".join(
        f"{kind} {', '.join(perms)}"
        for kind, perms in sorted((mine[0].get("permissions") or {}).items())
        if perms
    )
    if not granted:  # a policy that lists no permission lets the caller do nothing
        return finding(
            CHECK,
            False,
            f"{name} has an access policy for {principal} that grants nothing: add the key and "
            "secret permissions the operation needs, then retry",
            vault_id,
        )
    return finding(CHECK, True, f"{name} has an access policy for {principal}: {granted}", vault_id)
