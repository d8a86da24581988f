"""A French card's timeline in French: each note a fix writes on its way, as the playbooks word
it, read back in French; a note no pattern knows stays in English rather than half-translated."""

from __future__ import annotations

import pytest

from bot.wording import in_language

JOB = "3f9a2c51-7d0e-4b8a-9c61-2e5d8f4a1b07"
NOTES = [
    ("Azure confirms: backup of file-02 failed (UserErrorGuestAgentStatusUnavailable).",
     "Azure confirme : la sauvegarde de file-02 a échoué (UserErrorGuestAgentStatusUnavailable)."),
    ("Azure confirms: replication of erp-db-01 is Critical.",
     "Azure confirme : la réplication de erp-db-01 est à l'état critique (Critical)."),
    ("Azure confirms: 18 of 18 restore points",
     "Azure confirme : 18 points de restauration sur 18"),
    ("waiting 5 min before the retry", "attente de 5 min avant de relancer"),
    ("waited 5 min for the cause to clear", "5 min d'attente pour laisser la cause disparaître"),
    ("the VM agent of file-02 is Ready", "l'agent de la VM file-02 est prêt (Ready)"),
    ("no backup job in progress", "aucun travail de sauvegarde en cours"),
    (f"on-demand backup requested (operation {JOB})",
     f"sauvegarde à la demande demandée (opération {JOB})"),
    ("waiting for Azure Backup to create the job",
     "attente de la création du travail par Azure Backup"),
    (f"backup job {JOB} started", f"travail de sauvegarde {JOB} démarré"),
    (f"backup job {JOB} is InProgress",
     f"le travail de sauvegarde {JOB} est à l'état en cours (InProgress)"),
    (f"backup job {JOB} Completed", f"travail de sauvegarde {JOB} : réussi (Completed)"),
    (f"backup job {JOB} Failed, as expected: UserErrorRpCollectionLimitReached: The Restore "
     "Point collection max limit has reached.",
     f"travail de sauvegarde {JOB} en échec, comme prévu : UserErrorRpCollectionLimitReached: "
     "The Restore Point collection max limit has reached."),
    (f"resumed following backup job {JOB}", f"reprise du suivi du travail de sauvegarde {JOB}"),
    ("looking for a backup an earlier attempt may have started",
     "recherche d'une sauvegarde qu'une tentative précédente a pu lancer"),
    ("1 collection(s) in AzureBackupRG_westeurope_1",
     "1 collection(s) dans AzureBackupRG_westeurope_1"),
    ("locks recorded: protect-backup-rg (CanNotDelete) on AzureBackupRG_westeurope_1",
     "verrous notés : protect-backup-rg (CanNotDelete) on AzureBackupRG_westeurope_1"),
    ("lifted 1 lock(s)", "1 verrou(s) levé(s)"),
    ("AzureBackupRG_westeurope_1 is being cleaned by the fix of erp-app-01",
     "AzureBackupRG_westeurope_1 est en cours de nettoyage par la correction de erp-app-01"),
    ("waiting for Azure Backup's cleanup (18 of 18)",
     "attente du nettoyage d'Azure Backup (18 sur 18)"),
    ("Azure Backup cleaned up: 2 of 18 restore points",
     "Azure Backup a nettoyé : 2 points de restauration sur 18"),
    ("not needed: Azure cleaned the collection up", "inutile : Azure a nettoyé la collection"),
    ("3 of 18 restore points now", "3 points de restauration sur 18 désormais"),
    ("left 1 lock(s) off, as the approver chose",
     "1 verrou(s) laissé(s) levé(s), comme l'approbateur l'a choisi"),
    ("restored 1 lock(s)", "1 verrou(s) remis"),
    ("Azure allows a resync now", "Azure autorise une resynchronisation maintenant"),
    (f"resync started (job {JOB})", f"resynchronisation lancée (travail {JOB})"),
    (f"resync job {JOB} is InProgress",
     f"le travail de resynchronisation {JOB} est à l'état en cours (InProgress)"),
    (f"resync job {JOB} succeeded", f"travail de resynchronisation {JOB} réussi"),
    (f"resumed following resync job {JOB}",
     f"reprise du suivi du travail de resynchronisation {JOB}"),
    ("replication of erp-db-01 is healthy again",
     "la réplication de erp-db-01 est de nouveau saine"),
]  # fmt: skip


@pytest.mark.parametrize(("english", "french"), NOTES)
def test_a_fixs_note_reads_in_french(english, french):
    assert in_language(english, "fr") == french
    assert in_language(english, "en") == english


def test_a_confirmation_of_something_unknown_stays_in_english_whole():
    assert in_language("Azure confirms: something new happened", "fr") == ""


def test_a_french_timeline_line_puts_a_space_before_its_colon():
    from bot.timeline import step_text

    entry = {"step": "lift-locks", "phase": "next", "note": "lifted 1 lock(s)"}
    assert step_text(entry, "fr") == "Lever les verrous : 1 verrou(s) levé(s)"
    assert step_text(entry, "en") == "Lift the locks: lifted 1 lock(s)"
