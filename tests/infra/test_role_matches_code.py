"""The custom role holds exactly the ARM actions the code declares, no more, no less."""

from __future__ import annotations

import json
import re
from pathlib import Path

from remediation.azure.operations import ACTIONS, required_actions

ROOT = Path(__file__).resolve().parents[2]
SDK_GROUPS = ("site_recovery", "backup", "compute", "locks", "resources", "network", "private_dns")


def _role() -> set[str]:
    return {
        a.lower() for a in json.loads((ROOT / "infra/role-actions.json").read_text())["actions"]
    }


def test_role_grants_exactly_the_declared_actions():
    needed = {a.lower() for a in required_actions()}
    assert needed - _role() == set(), "the role lacks actions the code calls"
    assert _role() - needed == set(), "the role grants actions no code uses"


def test_every_arm_call_in_the_app_goes_through_a_declared_operation():
    """Playbooks and chat reach Azure only via `Arm` methods, each with its RBAC action."""
    calls = re.compile(r"\barm\.(\w+)\(")
    sdk = re.compile(r"\.(?:{})\.\w+\(".format("|".join(SDK_GROUPS)))
    allowed_sdk = {ROOT / "remediation/azure/operations.py"}
    callers = [*(ROOT / "remediation/playbooks").rglob("*.py"), ROOT / "remediation/poller.py"]
    callers += [*(ROOT / "bot").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    for path in callers:
        text = path.read_text()
        unknown = {m for m in calls.findall(text) if m not in ACTIONS}
        assert not unknown, f"{path.relative_to(ROOT)} calls undeclared ARM operations {unknown}"
        if path not in allowed_sdk:
            direct = sdk.findall(text)
            assert not direct, f"{path.relative_to(ROOT)} calls SDK clients directly: {direct}"
