"""Each custom role holds exactly the ARM actions the code declares for its kind of group."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from remediation.azure.operations import ACTIONS, GroupKind, required_actions

ROOT = Path(__file__).resolve().parents[2]
SDK_GROUPS = ("site_recovery", "backup", "compute", "locks", "resources", "network", "private_dns")


def _roles() -> dict[str, set[str]]:
    roles = json.loads((ROOT / "infra/role-actions.json").read_text())["roles"]
    return {kind: {a.lower() for a in role["actions"]} for kind, role in roles.items()}


def test_every_arm_call_declares_the_kind_of_group_it_acts_in():
    """A new `@arm_action` without `scope=` would get no role: say where it acts."""
    undeclared = sorted(name for name, a in ACTIONS.items() if a.scope is None)
    assert not undeclared, (
        f"@arm_action without scope=GroupKind.<kind> in remediation/azure/operations.py: "
        f"{undeclared}; add the kind, then its action to that role in infra/role-actions.json"
    )


def test_there_is_one_role_per_kind_of_group():
    assert set(_roles()) == {str(kind) for kind in GroupKind}


@pytest.mark.parametrize("kind", list(GroupKind), ids=str)
def test_each_role_grants_exactly_the_actions_declared_for_its_kind(kind: GroupKind):
    needed = {a.lower() for a in required_actions(kind)}
    role = _roles()[str(kind)]
    assert needed - role == set(), f"the {kind} role lacks actions the code calls there"
    assert role - needed == set(), f"the {kind} role grants actions no code uses there"


def test_writes_are_never_granted_subscription_wide():
    subscription = _roles()[str(GroupKind.SUBSCRIPTION)]
    assert all(a.endswith("/read") for a in subscription), "the subscription role is read-only"
    writes = {a.action.lower() for a in ACTIONS.values() if a.write}
    assert not writes & subscription


def test_every_arm_call_in_the_app_goes_through_a_declared_operation():
    """Playbooks and chat reach Azure only via `Arm` methods, each with its RBAC action."""
    calls = re.compile(r"\barm\.(\w+)\(")
    sdk = re.compile(r"\.(?:{})\.\w+\(".format("|".join(SDK_GROUPS)))
    allowed_sdk = {ROOT / "remediation/azure/operations.py"}
    callers = [*(ROOT / "remediation/playbooks").rglob("*.py"), ROOT / "remediation/poller.py"]
    callers.append(ROOT / "remediation/resolution.py")
    callers += [*(ROOT / "bot").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    for path in callers:
        text = path.read_text()
        unknown = {m for m in calls.findall(text) if m not in ACTIONS}
        assert not unknown, f"{path.relative_to(ROOT)} calls undeclared ARM operations {unknown}"
        if path not in allowed_sdk:
            direct = sdk.findall(text)
            assert not direct, f"{path.relative_to(ROOT)} calls SDK clients directly: {direct}"
