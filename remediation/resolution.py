"""Whether a "Resolved" signal is true: Azure is read before an incident closes.

Anyone who can reach a webhook can send a resolved alert, so one that arrives over a webhook
closes nothing by itself: the VM's latest finished backup must have completed, or its
migration item be healthy again. Resolutions the poller reads from Azure itself need no check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from remediation.azure.api import ArmApi
from remediation.playbooks.findings import reason
from remediation.playbooks.verify import COMPLETED_JOB, RUNNING_JOB
from remediation.signals.arm_id import ArmId
from remediation.signals.model import Signal


def confirmed(arm_for: Callable[[], ArmApi], signal: Signal) -> tuple[bool, str]:
    """(True, why) when Azure shows the resource recovered; (False, why not) otherwise,
    including when Azure cannot be read or the signal names no resource to read."""
    resource_id = signal.resource_id or ""
    arm_id = ArmId.parse(resource_id)
    try:
        arm = arm_for()
        if arm_id and arm_id.get("replicationMigrationItems"):
            return _replication(arm.get_migration_item(resource_id), signal.vm)
        if arm_id and arm_id.get("virtualMachines") and signal.vault_id:
            return _backup(arm.list_backup_jobs(signal.vault_id, resource_id), signal.vm)
    except Exception as exc:  # unreadable now (ARM down, 404, throttled): stay open, say why
        return False, f"Azure could not be read to confirm it ({reason(exc)})"
    return False, "the signal names no resource Azure could confirm it on"


def _replication(item: dict[str, Any], vm: str | None) -> tuple[bool, str]:
    health = (item.get("properties") or {}).get("health")
    if health == "Normal":
        return True, f"replication of {vm} is healthy again"
    return False, f"replication of {vm} is still {health}"


def _backup(jobs: list[dict[str, Any]], vm: str | None) -> tuple[bool, str]:
    finished = [j for j in jobs if (j.get("properties") or {}).get("status") not in RUNNING_JOB]
    if not finished:
        return False, f"no finished backup of {vm} shows it recovered"
    status = (finished[0].get("properties") or {}).get("status")
    if status in COMPLETED_JOB:
        return True, f"the last backup of {vm} completed"
    return False, f"the last backup of {vm} still ended {status}"
