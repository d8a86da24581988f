"""reset-snapshot-extension: remove a failed VMSnapshot extension, then back up again; the
backup reinstalls the extension, which is read back at the end."""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError

from remediation.playbooks import verify
from remediation.playbooks.backup_steps import BACKUP_STEPS, CONFIRM_BACKUP
from remediation.playbooks.base import Playbook, RunContext, Step, StepFailed, StepResult

SNAPSHOT_EXTENSIONS = {"vmsnapshot", "vmsnapshotlinux"}
EXTENSION_FAILED = "snapshot-extension-failed"
VM_RUNNING = "vm-running"


def _snapshot_extensions(view: dict) -> list[dict]:
    return [
        ext
        for ext in view.get("extensions") or []
        if (ext.get("type") or ext.get("name") or "").split(".")[-1].lower() in SNAPSHOT_EXTENSIONS
    ]


def _failed(ext: dict) -> bool:
    return any("failed" in (s.get("code") or "").lower() for s in ext.get("statuses") or [])


def check_vm_running(ctx: RunContext) -> StepResult:
    """The backup that reinstalls the extension needs the VM agent, so the VM must run."""
    power = verify.power_state(ctx.arm.instance_view(verify.target_vm_id(ctx)))
    if power and power != "running":
        raise StepFailed(
            f"VM {ctx.target.get('vm')} is {power}: start it, then retry the fix "
            "(the next backup reinstalls the extension through the running VM agent)."
        )
    return StepResult.next("the VM is running")


def find_failed_extension(ctx: RunContext) -> StepResult:
    view = ctx.arm.instance_view(verify.target_vm_id(ctx))
    failed = [ext["name"] for ext in _snapshot_extensions(view) if _failed(ext)]
    if not failed:
        return StepResult.unconfirmed(
            f"No VMSnapshot extension of {ctx.target.get('vm')} is in a failed state."
        )
    ctx.state["extensions"] = failed
    return StepResult.next(f"failed snapshot extension: {', '.join(failed)}")


def remove_extension(ctx: RunContext) -> StepResult:
    """An extension already gone (deleted before a crash, or by hand) counts as removed."""
    for name in ctx.state["extensions"]:
        try:
            ctx.arm.delete_extension(verify.target_vm_id(ctx), name)
        except ResourceNotFoundError:
            continue
    return StepResult.next(f"removed {', '.join(ctx.state['extensions'])}")


def confirm_reinstalled(ctx: RunContext) -> StepResult:
    """Success is read back: the backup reinstalled the extension and it is healthy."""
    view = ctx.arm.instance_view(verify.target_vm_id(ctx))
    present = _snapshot_extensions(view)
    if not present or any(_failed(ext) for ext in present):
        raise StepFailed(
            f"the backup completed but the snapshot extension of {ctx.target.get('vm')} is "
            f"{'missing' if not present else 'still failed'}"
        )
    return StepResult.next(f"{present[0].get('name')} reinstalled and healthy")


PLAYBOOK = Playbook(
    "reset-snapshot-extension",
    (
        CONFIRM_BACKUP,
        Step("check-vm-running", check_vm_running, checks=(VM_RUNNING,)),
        Step(
            "find-failed-extension",
            find_failed_extension,
            confirms=True,
            checks=(EXTENSION_FAILED,),
        ),
        *BACKUP_STEPS[:1],
        Step(
            "remove-extension",
            remove_extension,
            writes=True,
            plans="remove the failed VMSnapshot extension",
        ),
        *BACKUP_STEPS[1:],
        Step("confirm-reinstalled", confirm_reinstalled),
    ),
    "Remove the failed VMSnapshot/VMSnapshotLinux extension; the next backup reinstalls it.",
)
