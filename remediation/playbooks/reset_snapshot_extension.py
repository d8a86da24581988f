"""reset-snapshot-extension: remove a failed VMSnapshot extension, then back up again."""

from __future__ import annotations

from remediation.playbooks.backup_steps import BACKUP_STEPS
from remediation.playbooks.base import Playbook, RunContext, Step, StepResult

SNAPSHOT_EXTENSIONS = {"vmsnapshot", "vmsnapshotlinux"}


def find_failed_extension(ctx: RunContext) -> StepResult:
    view = ctx.arm.instance_view(ctx.target["resource_id"])
    failed = [
        ext["name"]
        for ext in view.get("extensions") or []
        if (ext.get("type") or ext.get("name") or "").split(".")[-1].lower() in SNAPSHOT_EXTENSIONS
        and any("failed" in (s.get("code") or "").lower() for s in ext.get("statuses") or [])
    ]
    ctx.state["extensions"] = failed
    return StepResult.next(f"failed snapshot extension(s): {failed or 'none'}")


def remove_extension(ctx: RunContext) -> StepResult:
    """An extension already gone (deleted before a crash, or by hand) counts as removed."""
    from azure.core.exceptions import ResourceNotFoundError

    for name in ctx.state.get("extensions") or []:
        try:
            ctx.arm.delete_extension(ctx.target["resource_id"], name)
        except ResourceNotFoundError:
            continue
    return StepResult.next(f"removed {ctx.state.get('extensions') or 'nothing'}")


PLAYBOOK = Playbook(
    "reset-snapshot-extension",
    (
        Step("find-failed-extension", find_failed_extension),
        Step("remove-extension", remove_extension, writes=True),
        *BACKUP_STEPS,
    ),
    "Remove the failed VMSnapshot/VMSnapshotLinux extension; the next backup reinstalls it.",
)
