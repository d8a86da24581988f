"""The playbooks the catalogue's automation can name, by name."""

from __future__ import annotations

from remediation.playbooks import (
    cleanup_restore_points,
    diagnose,
    repair_replication,
    reset_snapshot_extension,
    retry_backup,
)
from remediation.playbooks.base import Playbook

PLAYBOOKS: dict[str, Playbook] = {
    module.PLAYBOOK.name: module.PLAYBOOK
    for module in (
        repair_replication,
        cleanup_restore_points,
        retry_backup,
        reset_snapshot_extension,
        diagnose,
    )
}
