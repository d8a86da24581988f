"""The catalogue's preconditions, by id, in words; each is checked by a playbook step.

The catalogue names a precondition by id (`automation.preconditions`), a playbook step
declares the ids it checks (`Step.checks`), and a test fails if a catalogued precondition has
no step that checks it before the playbook's first write, so the two cannot drift.
"""

from __future__ import annotations

PRECONDITIONS: dict[str, dict[str, str]] = {
    "no-backup-in-progress": {
        "en": "no backup job is in progress for the VM",
        "fr": "aucune tâche de sauvegarde n'est en cours pour la VM",
    },
    "snapshot-extension-failed": {
        "en": "the VMSnapshot or VMSnapshotLinux extension is in a failed state",
        "fr": "l'extension VMSnapshot ou VMSnapshotLinux est en échec",
    },
    "vm-running": {
        "en": "the VM is running, so the next backup can reinstall the extension",
        "fr": "la VM est démarrée, pour que la sauvegarde suivante réinstalle l'extension",
    },
    "vm-agent-ready": {
        "en": "the VM is running and Azure shows its VM agent Ready",
        "fr": "la VM est démarrée et Azure indique que son agent est prêt (Ready)",
    },
    "locks-recorded-first": {
        "en": "every lock on the restore point group is recorded before any is lifted",
        "fr": "chaque verrou du groupe des points de restauration est noté avant d'être levé",
    },
    "resync-allowed": {
        "en": "Azure allows a resync of the migration item (StartResync)",
        "fr": "Azure autorise la resynchronisation de l'élément de migration (StartResync)",
    },
}


def describe(precondition: str, lang: str = "en") -> str:
    words = PRECONDITIONS.get(precondition)
    return words.get(lang) or words["en"] if words else precondition
