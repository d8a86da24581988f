"""Words and times for people, in English and French: what a card or an answer says.

Relative times ("12 min ago") where a person decides, the UTC time where the evidence is;
resource names, never ARM ids, in sentences; each step of a fix and each state in words.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from remediation.clock import parse_iso
from remediation.signals.arm_id import ArmId

_ARM_ID = re.compile(r"/subscriptions/[^\s,;'\"()\[\]<>]+", re.IGNORECASE)
_DOUBLED = re.compile(r"\b(\w+)(\s+\1\b)+", re.IGNORECASE)
# "ResourceNotFoundError: ..." or "(ResourceNotFound) ... Code: ... Message: ..." as SDKs print
_EXCEPTION_PREFIX = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception):\s*")
_SDK_TRAILER = re.compile(r"\s*\bCode: \S+\s*Message:\s*", re.IGNORECASE)

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "just_now": "just now",
        "ago": "{n} ago",
        "in": "in {n}",
        "min": "{n} min",
        "h": "{n} h",
        "d": "{n} d",
        "unknown_time": "time unknown",
    },
    "fr": {
        "just_now": "à l'instant",
        "ago": "il y a {n}",
        "in": "dans {n}",
        "min": "{n} min",
        "h": "{n} h",
        "d": "{n} j",
        "unknown_time": "heure inconnue",
    },
}

STATES: dict[str, dict[str, str]] = {
    "en": {
        "open": "OPEN",
        "fixing": "FIXING",
        "resolved": "RESOLVED",
        "failed": "FAILED",
        "needs-attention": "NEEDS ATTENTION",
        "snoozed": "SNOOZED",
    },
    "fr": {
        "open": "OUVERT",
        "fixing": "CORRECTION EN COURS",
        "resolved": "RÉSOLU",
        "failed": "ÉCHEC",
        "needs-attention": "INTERVENTION REQUISE",
        "snoozed": "REPORTÉ",
    },
}

# One VM's outcome (remediation.outcomes), as a card lists it after the VM's name.
OUTCOMES: dict[str, dict[str, str]] = {
    "en": {
        "failing": "failing, fix about to start",
        "awaiting-approval": "waiting for approval",
        "fixing": "fix running",
        "fixed": "fixed",
        "recovered": "healthy again",
        "fix-failed": "fix failed",
        "not-confirmed": "Azure does not show the failure",
        "dry-run": "dry run, nothing written",
        "rejected": "fix rejected",
        "snoozed": "snoozed",
        "expired": "approval expired",
        "not-started": "fix could not start",
        "in-doubt": "identity in doubt",
        "manual": "to fix by hand",
    },
    "fr": {
        "failing": "en échec, correction sur le point de démarrer",
        "awaiting-approval": "en attente d'approbation",
        "fixing": "correction en cours",
        "fixed": "corrigée",
        "recovered": "de nouveau saine",
        "fix-failed": "correction échouée",
        "not-confirmed": "Azure ne montre pas l'échec",
        "dry-run": "simulation, rien d'écrit",
        "rejected": "correction refusée",
        "snoozed": "reportée",
        "expired": "approbation expirée",
        "not-started": "correction non démarrée",
        "in-doubt": "identité incertaine",
        "manual": "à corriger à la main",
    },
}

# A catalogue entry's severity, as cards and answers say it.
SEVERITIES: dict[str, dict[str, str]] = {
    "en": {"critical": "critical", "warning": "warning", "info": "info"},
    "fr": {"critical": "critique", "warning": "avertissement", "info": "info"},
}


def severity(value: str, lang: str) -> str:
    return SEVERITIES.get(lang, SEVERITIES["en"]).get(value, value)


# States as Azure reports them (backup job status, power state, VM agent, replication
# health), in French; Azure's own word follows in brackets, as the portal and docs spell it.
_AZURE_FR = {
    "completed": "réussi", "completedwithwarnings": "réussi avec avertissements",
    "failed": "échoué", "inprogress": "en cours", "cancelled": "annulé",
    "cancelling": "en cours d'annulation",
    "running": "démarrée", "stopped": "arrêtée", "deallocated": "libérée",
    "starting": "en démarrage", "stopping": "en arrêt", "deallocating": "en libération",
    "ready": "prêt", "not ready": "non prêt",
    "normal": "normale", "warning": "avertissement", "critical": "critique",
}  # fmt: skip


def azure_state(value: str | None, lang: str) -> str:
    """A state Azure reports, in the answer's language: "échoué (Failed)" in French."""
    said = value or "?"
    french = _AZURE_FR.get(said.lower()) if lang == "fr" else None
    return f"{french} ({said})" if french else said


PLAYBOOKS: dict[str, dict[str, str]] = {
    "en": {
        "repair-replication": "Repair replication",
        "cleanup-restore-points": "Clean up restore points",
        "retry-backup": "Retry the backup",
        "reset-snapshot-extension": "Reset the snapshot extension",
        "diagnose": "Diagnose (read only)",
    },
    "fr": {
        "repair-replication": "Réparer la réplication",
        "cleanup-restore-points": "Nettoyer les points de restauration",
        "retry-backup": "Relancer la sauvegarde",
        "reset-snapshot-extension": "Réinitialiser l'extension de capture",
        "diagnose": "Diagnostic (lecture seule)",
    },
}

STEPS: dict[str, dict[str, str]] = {
    "en": {
        "confirm-vm": "Check the VM in Azure",
        "confirm-failure": "Confirm the failure in Azure",
        "find-collections": "Find the restore point collections",
        "confirm-limit": "Count the restore points",
        "no-backup-running": "Check no backup is running",
        "record-locks": "Record the locks",
        "lift-locks": "Lift the locks",
        "trigger-backup": "Start an on-demand backup",
        "find-backup-job": "Find the backup job",
        "follow-backup": "Follow the backup job",
        "await-cleanup": "Wait for Azure Backup's cleanup",
        "delete-collections": "Delete the collection",
        "confirm-cleaned": "Count the restore points again",
        "restore-locks": "Put the locks back",
        "settle": "Let the transient error pass",
        "check-resync-allowed": "Check a resync is allowed",
        "start-resync": "Start the resync",
        "follow-job": "Follow the replication job",
        "confirm-healthy": "Read the replication health back",
        "check-vm-running": "Check the VM is running",
        "find-failed-extension": "Find the failed extension",
        "remove-extension": "Remove the failed extension",
        "confirm-reinstalled": "Check the extension came back",
        "check-vm-agent": "Check the VM agent",
        "check-key-vaults": "Check the key vaults",
        "check-private-endpoints": "Check the private endpoints",
        "check-private-dns": "Check the private DNS zones",
        "again": "{step} (again)",
    },
    "fr": {
        "confirm-vm": "Vérifier la VM dans Azure",
        "confirm-failure": "Confirmer l'échec dans Azure",
        "find-collections": "Trouver les collections de points de restauration",
        "confirm-limit": "Compter les points de restauration",
        "no-backup-running": "Vérifier qu'aucune sauvegarde ne tourne",
        "record-locks": "Noter les verrous",
        "lift-locks": "Lever les verrous",
        "trigger-backup": "Lancer une sauvegarde à la demande",
        "find-backup-job": "Trouver le travail de sauvegarde",
        "follow-backup": "Suivre le travail de sauvegarde",
        "await-cleanup": "Attendre le nettoyage d'Azure Backup",
        "delete-collections": "Supprimer la collection",
        "confirm-cleaned": "Recompter les points de restauration",
        "restore-locks": "Remettre les verrous",
        "settle": "Laisser passer l'erreur transitoire",
        "check-resync-allowed": "Vérifier qu'une resynchronisation est permise",
        "start-resync": "Lancer la resynchronisation",
        "follow-job": "Suivre le travail de réplication",
        "confirm-healthy": "Relire la santé de la réplication",
        "check-vm-running": "Vérifier que la VM tourne",
        "find-failed-extension": "Trouver l'extension en échec",
        "remove-extension": "Retirer l'extension en échec",
        "confirm-reinstalled": "Vérifier le retour de l'extension",
        "check-vm-agent": "Vérifier l'agent de la VM",
        "check-key-vaults": "Vérifier les coffres de clés",
        "check-private-endpoints": "Vérifier les points de terminaison privés",
        "check-private-dns": "Vérifier les zones DNS privées",
        "again": "{step} (de nouveau)",
    },
}

# Failure sentences and step notes the fixes write, in French (the English is the sentence
# itself).
_FRENCH_FAILURES = (
    (
        re.compile(r"^VM (?P<vm>\S+) was not found in subscription (?P<sub>[^,]+), "
                   r"resource group (?P<rg>[^:]+): nothing was changed\.?$"),
        "La VM {vm} est introuvable dans l'abonnement {sub}, groupe de ressources {rg} : "
        "rien n'a été modifié.",
    ),
    (
        re.compile(r"^VM (?P<vm>\S+) is not protected by vault (?P<vault>\S+) .*nothing was "
                   r"changed\.?$"),
        "La VM {vm} n'est pas protégée par le coffre {vault} : rien n'a été modifié.",
    ),
    (
        re.compile(r"^VM (?P<vm>\S+) has (?P<n>\d+) of (?P<limit>\d+) restore points: nothing "
                   r"to clean up\.?$"),
        "La VM {vm} a {n} points de restauration sur {limit} : rien à nettoyer.",
    ),
    (
        re.compile(r"^The last backup of (?P<vm>\S+) completed .*$"),
        "La dernière sauvegarde de {vm} a réussi : Azure ne montre pas l'échec.",
    ),
    (
        re.compile(r"^Azure Backup lists no finished backup job of (?P<vm>\S+)\.$"),
        "Azure Backup ne liste aucun travail de sauvegarde terminé de {vm}.",
    ),
    (
        re.compile(r"^VM (?P<vm>\S+) found, protected by its vault$"),
        "VM {vm} trouvée, protégée par son coffre",
    ),
    (
        re.compile(r"^Azure confirms: (?P<sentence>.*)$"),
        "Azure confirme : {sentence}",
    ),
    (
        re.compile(r"^backup job (?P<job>\S+) ended (?P<status>\S+): (?P<error>.*)$"),
        "Le travail de sauvegarde {job} s'est terminé en {status} : {error}",
    ),
    # The notes a fix writes on its way, as its timeline shows them.
    (re.compile(r"^backup of (?P<vm>\S+) failed \((?P<code>[^)]+)\)\.$"),
     "la sauvegarde de {vm} a échoué ({code})."),
    (re.compile(r"^replication of (?P<vm>\S+) is (?P<health>\w+)\.$"),
     "la réplication de {vm} est à l'état {health}."),
    (re.compile(r"^(?P<n>\d+) of (?P<limit>\d+) restore points$"),
     "{n} points de restauration sur {limit}"),
    (re.compile(r"^waiting 5 min before the retry$"), "attente de 5 min avant de relancer"),
    (re.compile(r"^held before (?P<step>\S+): (?P<why>.+)$"), "en attente avant {step} : {why}"),
    (re.compile(r"^Stopped before (?P<step>\S+): (?P<why>.+)\. Retry the fix to finish it\.$"),
     "Arrêtée avant {step} : {why}. Relancez la correction pour la terminer."),
    (re.compile(r"^waited 5 min for the cause to clear$"),
     "5 min d'attente pour laisser la cause disparaître"),
    (re.compile(r"^the VM agent of (?P<vm>\S+) is Ready$"),
     "l'agent de la VM {vm} est prêt (Ready)"),
    (re.compile(r"^no backup job in progress$"), "aucun travail de sauvegarde en cours"),
    (re.compile(r"^on-demand backup requested \(operation (?P<op>\S+)\)$"),
     "sauvegarde à la demande demandée (opération {op})"),
    (re.compile(r"^waiting for Azure Backup to create the job$"),
     "attente de la création du travail par Azure Backup"),
    (re.compile(r"^backup job (?P<job>\S+) started$"), "travail de sauvegarde {job} démarré"),
    (re.compile(r"^backup job (?P<job>\S+) is (?P<status>\S+)$"),
     "le travail de sauvegarde {job} est à l'état {status}"),
    (re.compile(r"^backup job (?P<job>\S+) Failed, as expected: (?P<error>.*)$"),
     "travail de sauvegarde {job} en échec, comme prévu : {error}"),
    (re.compile(r"^backup job (?P<job>\S+) (?P<status>\w+)$"),
     "travail de sauvegarde {job} : {status}"),
    (re.compile(r"^resumed following backup job (?P<job>\S+)$"),
     "reprise du suivi du travail de sauvegarde {job}"),
    (re.compile(r"^looking for a backup an earlier attempt may have started$"),
     "recherche d'une sauvegarde qu'une tentative précédente a pu lancer"),
    (re.compile(r"^(?P<n>\d+) collection\(s\) in (?P<groups>.+)$"),
     "{n} collection(s) dans {groups}"),
    (re.compile(r"^locks recorded: (?P<locks>.+)$"), "verrous notés : {locks}"),
    (re.compile(r"^(?P<group>\S+) is being cleaned by the fix of (?P<vm>\S+)$"),
     "{group} est en cours de nettoyage par la correction de {vm}"),
    (re.compile(r"^lifted (?P<n>\d+) lock\(s\)$"), "{n} verrou(s) levé(s)"),
    (re.compile(r"^waiting for Azure Backup's cleanup \((?P<n>\d+) of (?P<limit>\d+)\)$"),
     "attente du nettoyage d'Azure Backup ({n} sur {limit})"),
    (re.compile(r"^Azure Backup cleaned up: (?P<n>\d+) of (?P<limit>\d+) restore points$"),
     "Azure Backup a nettoyé : {n} points de restauration sur {limit}"),
    (re.compile(r"^not needed: Azure cleaned the collection up$"),
     "inutile : Azure a nettoyé la collection"),
    (re.compile(r"^(?P<n>\d+) of (?P<limit>\d+) restore points now$"),
     "{n} points de restauration sur {limit} désormais"),
    (re.compile(r"^left (?P<n>\d+) lock\(s\) off, as the approver chose$"),
     "{n} verrou(s) laissé(s) levé(s), comme l'approbateur l'a choisi"),
    (re.compile(r"^restored (?P<n>\d+) lock\(s\)$"), "{n} verrou(s) remis"),
    (re.compile(r"^Azure allows a resync now$"), "Azure autorise une resynchronisation maintenant"),
    (re.compile(r"^resync started \(job (?P<job>\S+)\)$"),
     "resynchronisation lancée (travail {job})"),
    (re.compile(r"^resync job (?P<job>\S+) is (?P<status>\S+)$"),
     "le travail de resynchronisation {job} est à l'état {status}"),
    (re.compile(r"^resync job (?P<job>\S+) succeeded$"),
     "travail de resynchronisation {job} réussi"),
    (re.compile(r"^resumed following resync job (?P<job>\S+)$"),
     "reprise du suivi du travail de resynchronisation {job}"),
    (re.compile(r"^replication of (?P<vm>\S+) is healthy again$"),
     "la réplication de {vm} est de nouveau saine"),
    (
        re.compile(r"^The VM agent of (?P<vm>\S+) is (?P<shown>.+) \(agent (?P<version>[^)]*)\): "
                   r"a backup now would fail the same way\..*Nothing was changed\.$"),
        "L'agent de la VM {vm} est {shown} (agent {version}) : une sauvegarde échouerait de la "
        "même façon. Redémarrez l'agent (le service Windows Azure Guest Agent, ou waagent sous "
        "Linux), puis relancez la correction. Rien n'a été modifié.",
    ),
    (
        re.compile(r"^VM (?P<vm>\S+) is (?P<power>\S+): start it, then retry the fix \(a backup "
                   r"needs the agent of a running VM\)\. Nothing was changed\.$"),
        "La VM {vm} est à l'état {power} : démarrez-la, puis relancez la correction (une "
        "sauvegarde a besoin de l'agent d'une VM démarrée). Rien n'a été modifié.",
    ),
    # Why a fix stopped (the sentences its runs end with, as the card's headline shows them).
    (re.compile(r"^The alert's backup job (?P<job>\S+) belongs to another VM than (?P<vm>\S+): "
                r"nothing was changed\.$"),
     "Le travail de sauvegarde {job} de l'alerte appartient à une autre VM que {vm} : rien "
     "n'a été modifié."),
    (re.compile(r"^VM (?P<vm>\S+) still has (?P<n>\d+) of (?P<limit>\d+) restore points$"),
     "La VM {vm} a toujours {n} points de restauration sur {limit}"),
    (re.compile(r"^Azure Backup accepted the backup but named no operation to follow$"),
     "Azure Backup a accepté la sauvegarde mais n'a nommé aucune opération à suivre"),
    (re.compile(r"^Site Recovery accepted the resync but named no job to follow$"),
     "Site Recovery a accepté la resynchronisation mais n'a nommé aucun travail à suivre"),
    (re.compile(r"^Azure does not allow a resync of this item now \(allowed: "
                r"(?P<allowed>[^)]*)\)$"),
     "Azure n'autorise pas de resynchronisation de cet élément maintenant (autorisé : "
     "{allowed})"),
    (re.compile(r"^Migration item of (?P<vm>\S+) was not found in vault (?P<vault>\S+) "
                r"\(subscription (?P<sub>[^,]+), resource group (?P<rg>[^)]+)\): nothing was "
                r"changed\.$"),
     "L'élément de migration de {vm} est introuvable dans le coffre {vault} (abonnement "
     "{sub}, groupe de ressources {rg}) : rien n'a été modifié."),
    (re.compile(r"^No restore point collection of VM (?P<vm>\S+) was found in the "
                r"azurebackuprg_\* groups of subscription (?P<sub>\S+)\.$"),
     "Aucune collection de points de restauration de la VM {vm} n'a été trouvée dans les "
     "groupes azurebackuprg_* de l'abonnement {sub}."),
    (re.compile(r"^The signal for (?P<vm>\S+) named no Azure VM resource id, so there is "
                r"nothing the bot can safely act on\.$"),
     "Le signal de {vm} ne nommait aucun ID de ressource de VM Azure : le bot ne peut rien "
     "faire sans risque."),
    (re.compile(r"^The signal for (?P<vm>\S+) named no Recovery Services vault\.$"),
     "Le signal de {vm} ne nommait aucun coffre Recovery Services."),
    (re.compile(r"^The signal for (?P<vm>\S+) named no migration item\.$"),
     "Le signal de {vm} ne nommait aucun élément de migration."),
    (re.compile(r"^The signal names (?P<vm>\S+), but its migration item replicates "
                r"(?P<other>.+): nothing was changed\.$"),
     "Le signal nomme {vm}, mais son élément de migration réplique {other} : rien n'a été "
     "modifié."),
    (re.compile(r"^VM (?P<vm>\S+) is (?P<power>\S+): start it, then retry the fix \(the next "
                r"backup reinstalls the extension through the running VM agent\)\.$"),
     "La VM {vm} est à l'état {power} : démarrez-la, puis relancez la correction (la "
     "prochaine sauvegarde réinstalle l'extension par l'agent de la VM démarrée)."),
    (re.compile(r"^Vault (?P<vault>\S+) protects an item under the name of (?P<vm>\S+) without "
                r"naming the resource it backs up: nothing was changed\.$"),
     "Le coffre {vault} protège un élément sous le nom de {vm} sans nommer la ressource qu'il "
     "sauvegarde : rien n'a été modifié."),
    (re.compile(r"^Vault (?P<vault>\S+) protects another resource under the name of "
                r"(?P<vm>\S+) \((?P<other>[^)]+)\): nothing was changed\.$"),
     "Le coffre {vault} protège une autre ressource sous le nom de {vm} ({other}) : rien n'a "
     "été modifié."),
    (re.compile(r"^(?P<kind>backup|resync) job (?P<job>\S+) is still (?P<status>\S+) after "
                r"(?P<n>\d+) checks, (?P<gap>.+) apart: the fix stops following it$"),
     "le travail {kind} {job} est toujours à l'état {status} après {n} vérifications à {gap} "
     "d'intervalle : la correction cesse de le suivre"),
    (re.compile(r"^backup job (?P<job>\S+) is in progress and has been for over (?P<span>.+)$"),
     "le travail de sauvegarde {job} est en cours depuis plus de {span}"),
    (re.compile(r"^backup job (?P<job>\S+) vanished from Azure Backup$"),
     "le travail de sauvegarde {job} a disparu d'Azure Backup"),
    (re.compile(r"^(?P<step>[\w-]+) stopped its worker (?P<n>\d+) times$"),
     "{step} a arrêté son processus {n} fois"),
    (re.compile(r"^replication job (?P<job>\S+) ended (?P<status>\w+)$"),
     "le travail de réplication {job} s'est terminé à l'état {status}"),
    (re.compile(r"^replication job (?P<job>\S+) ended (?P<status>\w+): (?P<error>.+)$"),
     "le travail de réplication {job} s'est terminé à l'état {status} : {error}"),
    (re.compile(r"^replication job (?P<job>\S+) vanished from the vault$"),
     "le travail de réplication {job} a disparu du coffre"),
    (re.compile(r"^the backup completed but the snapshot extension of (?P<vm>\S+) is missing$"),
     "la sauvegarde a réussi mais l'extension de capture instantanée de {vm} est absente"),
    (re.compile(r"^the backup completed but the snapshot extension of (?P<vm>\S+) is still "
                r"failed$"),
     "la sauvegarde a réussi mais l'extension de capture instantanée de {vm} est toujours en "
     "échec"),
    (re.compile(r"^the backup operation (?P<op>\S+) never named its job$"),
     "l'opération de sauvegarde {op} n'a jamais nommé son travail"),
    (re.compile(r"^the backup operation (?P<op>\S+) vanished from Azure Backup$"),
     "l'opération de sauvegarde {op} a disparu d'Azure Backup"),
    (re.compile(r"^the backup request (?P<status>\w+):$"),
     "la demande de sauvegarde s'est terminée à l'état {status}"),
    (re.compile(r"^the backup request (?P<status>\w+): (?P<error>.+)$"),
     "la demande de sauvegarde s'est terminée à l'état {status} : {error}"),
    (re.compile(r"^the collection is locked again: (?P<locks>.+) was put back while the fix "
                r"ran$"),
     "la collection est de nouveau verrouillée : {locks} a été remis pendant la correction"),
    (re.compile(r"^the collection is still locked by a lock above its resource group$"),
     "la collection est toujours verrouillée par un verrou au-dessus de son groupe de "
     "ressources"),
    (re.compile(r"^the resync succeeded but replication is still (?P<health>\w+): "
                r"(?P<error>.+)$"),
     "la resynchronisation a réussi mais la réplication est toujours à l'état {health} : "
     "{error}"),
    (re.compile(r"^(?P<step>[\w-]+): (?P<why>.+) \((?P<n>\d+) attempts\)$"),
     "{step} : {why} ({n} tentatives)"),
    # What a read-only diagnosis finds (remediation.playbooks.diagnose, .keyvaults), and its
    # step notes.
    (re.compile(r"^(?P<family>[\w.-]+): (?P<n>\d+) finding\(s\), (?P<bad>\d+) not ok$"),
     "{family} : {n} constat(s), {bad} en défaut"),
    (re.compile(r"^not a key vault error$"), "pas une erreur de coffre de clés"),
    (re.compile(r"^no Azure VM to inspect$"), "aucune VM Azure à examiner"),
    (re.compile(r"^could not check: (?P<why>.+)$"), "vérification impossible : {why}"),
    (
        re.compile(r"^the VM is (?P<power>\S+), so its agent cannot answer: start the VM, then "
                   r"retry the backup$"),
        "la VM est à l'état {power}, son agent ne peut donc pas répondre : démarrez la VM, puis "
        "relancez la sauvegarde",
    ),
    (
        re.compile(r"^agent (?P<version>\S+): (?P<shown>.+); restart or reinstall the VM agent, "
                   r"then retry the backup$"),
        "agent (version {version}) : {shown} ; redémarrez ou réinstallez l'agent de la VM, puis "
        "relancez la sauvegarde",
    ),
    (
        re.compile(r"^no key vault found in (?P<where>.+) nor named in the error: check the key "
                   r"vault the operation uses by hand$"),
        "aucun coffre de clés trouvé dans {where} ni nommé dans l'erreur : vérifiez à la main "
        "le coffre de clés qu'utilise l'opération",
    ),
    (
        re.compile(r"^(?P<name>\S+) has no access policy for (?P<principal>\S+): add one \(Key "
                   r"Vault > Access policies\) with the key and secret permissions the operation "
                   r"needs, then retry$"),
        "{name} n'a aucune stratégie d'accès pour {principal} : ajoutez-en une (Key Vault > "
        "Stratégies d'accès) avec les autorisations de clé et de secret dont l'opération a "
        "besoin, puis réessayez",
    ),
    (
        re.compile(r"^(?P<name>\S+) has an access policy for (?P<principal>\S+) that grants "
                   r"nothing: add the key and secret permissions the operation needs, then "
                   r"retry$"),
        "{name} a une stratégie d'accès pour {principal} qui n'accorde rien : ajoutez les "
        "autorisations de clé et de secret dont l'opération a besoin, puis réessayez",
    ),
    (
        re.compile(r"^(?P<endpoint>\S+) -> (?P<target>\S+): connection (?P<status>\S+); get it "
                   r"approved on the target resource \(Networking > Private endpoint "
                   r"connections\)$"),
        "{endpoint} -> {target} : connexion {status} ; faites-la approuver sur la ressource "
        "cible (Mise en réseau > Connexions de point de terminaison privé)",
    ),
    (
        re.compile(r"^(?P<endpoint>\S+) -> (?P<target>\S+): connection (?P<status>\S+); a "
                   r"rejected or disconnected connection cannot be approved again: delete the "
                   r"private endpoint and create it again, then get the new connection "
                   r"approved$"),
        "{endpoint} -> {target} : connexion {status} ; une connexion refusée ou déconnectée ne "
        "peut plus être approuvée : supprimez le point de terminaison privé et recréez-le, "
        "puis faites approuver la nouvelle connexion",
    ),
    (
        re.compile(r"^no private DNS zone can hold (?P<fqdn>\S+): check how it resolves by "
                   r"hand$"),
        "aucune zone DNS privée ne peut contenir {fqdn} : vérifiez à la main comment ce nom "
        "est résolu",
    ),
    (
        re.compile(r"^no private DNS zone (?P<zone>\S+) for (?P<fqdn>\S+): create it in the "
                   r"endpoint's resource group and link it to (?P<vnet>.+)$"),
        "aucune zone DNS privée {zone} pour {fqdn} : créez-la dans le groupe de ressources du "
        "point de terminaison et liez-la à {vnet}",
    ),
    (
        re.compile(r"^(?P<zone>\S+) is not linked to (?P<vnet>.+), the endpoint's virtual "
                   r"network: add a virtual network link, or DNS queries from it ignore the "
                   r"zone$"),
        "{zone} n'est pas liée à {vnet}, le réseau virtuel du point de terminaison : ajoutez "
        "une liaison de réseau virtuel, sinon les requêtes DNS de ce réseau ignorent la zone",
    ),
    (
        re.compile(r"^no A record (?P<name>\S+) in (?P<zone>\S+) for (?P<fqdn>\S+): add one "
                   r"with (?P<wanted>.+)$"),
        "aucun enregistrement A {name} dans {zone} pour {fqdn} : ajoutez-en un avec {wanted}",
    ),
    (
        re.compile(r"^(?P<fqdn>\S+) -> (?P<held>.+), but the endpoint's private IP is "
                   r"(?P<wanted>.+): delete the A record, add it again with (?P=wanted), then "
                   r"flush the DNS cache of the machines that resolve it \(the old address "
                   r"lives until its TTL expires\)$"),
        "{fqdn} -> {held}, mais l'IP privée du point de terminaison est {wanted} : supprimez "
        "l'enregistrement A, ajoutez-le de nouveau avec {wanted}, puis videz le cache DNS des "
        "machines qui résolvent ce nom (l'ancienne adresse reste valable jusqu'à l'expiration "
        "de son TTL)",
    ),
)  # fmt: skip
# The words the sentences above carry as values (an unknown version, no status, the reason a
# read failed), in French; names, ids and Azure's own messages are kept as they are.
_FRENCH_TERMS = {
    "unknown": "inconnue",
    "no status": "aucun état",
    "nothing": "rien",
    "the endpoint's private IP": "l'IP privée du point de terminaison",
    "(unknown virtual network)": "(réseau virtuel inconnu)",
    "the incident's resource groups": "les groupes de ressources de l'incident",
    "none": "aucune",
    "no named machine": "une machine sans nom",
    "no detail": "sans détail",
    "backup": "de sauvegarde",
    "resync": "de resynchronisation",
    "automation is paused": "l'automatisation est suspendue",
    "outside the maintenance window": "hors de la fenêtre de maintenance",
    "Azure did not answer in time": "Azure n'a pas répondu à temps",
    "Azure refused the app's sign-in": "Azure a refusé la connexion de l'application",
    "Azure could not be reached": "Azure est injoignable",
    "Azure's answer was cut off": "la réponse d'Azure a été coupée",
    "an unexpected error in the app (its log has the details)": (
        "une erreur inattendue de l'application (son journal donne les détails)"
    ),
}
_STATE_GROUPS = ("power", "status", "health", "shown")
_TERM_GROUPS = (
    "version",
    "shown",
    "where",
    "held",
    "wanted",
    "vnet",
    "why",
    "allowed",
    "other",
    "error",
    "kind",
)


# What the core answers to a click (remediation.approvals, .oncall, .engine), in French.
_FRENCH_NOTICES = (
    (r"^Unknown action\.$", "Action inconnue."),
    (r"^This card's buttons act on its own incident only: nothing was changed\.$",
     "Les boutons de cette carte n'agissent que sur son propre incident : rien n'a été "
     "modifié."),
    (r"^This approval does not exist\.$", "Cette approbation n'existe pas."),
    (r"^This incident does not exist\.$", "Cet incident n'existe pas."),
    (r"^This fix run does not exist\.$", "Cette correction n'existe pas."),
    (r"^Decisions are only accepted from the home tenant\.$",
     "Seules les décisions du locataire d'origine sont acceptées."),
    (r"^You are not an approver for remediation fixes\.$",
     "Vous n'êtes pas approbateur des corrections."),
    (r"^Could not check your membership of the approver group: (?P<why>.*); try again\.$",
     "Impossible de vérifier votre appartenance au groupe des approbateurs : {why} ; "
     "réessayez."),
    (r"^That option is not part of this approval\.$",
     "Cette option ne fait pas partie de cette approbation."),
    (r"^This approval has expired\.$", "Cette approbation a expiré."),
    (r"^This approval was withdrawn: .*$", "Cette approbation a été retirée."),
    (r"^This approval was replaced by a newer one.*$",
     "Cette approbation a été remplacée par une plus récente : les VM de l'incident ont "
     "changé. Décidez sur la carte actuelle."),
    (r"^Already (?P<state>\S+) by (?P<name>.+)\.$", "Déjà {state} par {name}."),
    (r"^This incident is already (?P<state>\S+)\.$", "Cet incident est déjà {state}."),
    (r"^You already own this incident\.$", "Cet incident vous est déjà assigné."),
    (r"^Say in the note what was done, then resolve\.$",
     "Indiquez dans la note ce qui a été fait, puis résolvez."),
    (r"^A fix is still running: wait for it to end, or escalate\.$",
     "Une correction est en cours : attendez sa fin, ou escaladez."),
    (r"^This approval is (?P<state>\S+), not snoozed\.$",
     "Cette approbation est {state}, pas reportée."),
    (r"^A newer fix of (?P<vm>\S+) exists: use the current card\.$",
     "Une correction plus récente de {vm} existe : utilisez la carte actuelle."),
    (r"^Not retried: (?P<why>.*)\.$", "Pas relancée : {why}."),
    (r"^This fix hit no other known error\.$",
     "Cette correction n'a rencontré aucune autre erreur connue."),
)  # fmt: skip
_STATE_FR = {"approved": "approuvée", "rejected": "refusée", "snoozed": "reportée",
             "executing": "en cours", "succeeded": "réussie", "failed": "échouée",
             "acknowledged": "acquitté", "escalated": "escaladé", "resolved": "résolu",
             "expired": "expiré", "pending": "en attente", "withdrawn": "retirée"}  # fmt: skip


def notice(message: str, lang: str) -> str:
    """A click's answer in the card's language (French where the sentence is known)."""
    if lang != "fr":
        return message
    for pattern, french in _FRENCH_NOTICES:
        found = re.match(pattern, message)
        if found:
            parts = {k: _STATE_FR.get(v, v) for k, v in found.groupdict().items()}
            return french.format(**parts)
    return message


def words(table: dict[str, dict[str, str]], lang: str | None) -> dict[str, str]:
    return table.get(lang or "en", table["en"])


# -- time ------------------------------------------------------------------------------------
def moment(value: Any) -> datetime | None:
    """A stored time (ISO text, or a datetime) as an aware datetime; None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        found = parse_iso(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def ago(value: Any, now: datetime, lang: str = "en") -> str:
    """ "12 min ago" / "in 23 h", in the card's language."""
    w = words(TEXT, lang)
    when = moment(value)
    if when is None:
        return w["unknown_time"]
    seconds = (now - when).total_seconds()
    span = abs(seconds)
    if span < 60:
        return w["just_now"]
    if span < 3600 - 30:  # to the nearest unit: 23 h 59 min left is "in 24 h", not "in 23 h"
        amount = w["min"].format(n=int(span / 60 + 0.5))
    elif span < 48 * 3600:
        amount = w["h"].format(n=int(span / 3600 + 0.5))
    else:
        amount = w["d"].format(n=int(span / 86400 + 0.5))
    return w["ago" if seconds > 0 else "in"].format(n=amount)


def until(value: Any, now: datetime, lang: str = "en") -> str:
    """ "2026-11-01 10:06 UTC (in 24 h)": when something ends, and how far off that is."""
    return f"{minute(value)} ({ago(value, now, lang)})"


def utc(value: Any) -> str:
    """The UTC time to the second, for Details and evidence."""
    when = moment(value)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "—"


def minute(value: Any) -> str:
    """The UTC time to the minute, for times a person plans around."""
    when = moment(value)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else str(value or "—")


def local(value: Any, timezone: str | None) -> str | None:
    """The time in a person's own time zone (Teams sends it with their messages)."""
    when = moment(value)
    if when is None or not timezone:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M ") + timezone.rsplit("/", 1)[-1]


# -- text ------------------------------------------------------------------------------------
def name_of(arm_id: str | None) -> str | None:
    """The resource's name in an ARM id (the id itself when it is none)."""
    parsed = ArmId.parse(arm_id)
    return parsed.name if parsed else arm_id


def named(text: Any) -> str:
    """`text` with each ARM id replaced by the name it ends in."""
    said = str("" if text is None else text)
    return _ARM_ID.sub(lambda m: name_of(m.group(0).rstrip(".:")) or m.group(0), said)


def humanize(text: Any) -> str:
    """A sentence for people: ARM ids become the names they end in, a word said twice in a
    row once, and an SDK's exception name or "Code/Message" layout is dropped."""
    said = _EXCEPTION_PREFIX.sub("", named(text))
    said = _SDK_TRAILER.sub(" ", said)
    return " ".join(_DOUBLED.sub(r"\1", said).split())


def in_language(sentence: str, lang: str) -> str:
    """A fix's sentence (its failure or a step's note) in the card's language: French where
    it is known, else "" (the caller shows the English)."""
    said = humanize(sentence)
    if lang != "fr":
        return said
    for pattern, french in _FRENCH_FAILURES:
        found = pattern.match(said)
        if found:
            parts = found.groupdict()
            for group in _TERM_GROUPS:
                if group in parts:
                    parts[group] = _FRENCH_TERMS.get(parts[group], parts[group])
            for group in _STATE_GROUPS:  # Azure's states: "libérée (deallocated)"
                if group in parts:
                    parts[group] = azure_state(parts[group], lang)
            if "sentence" in parts:  # a sentence within: in French too, or all stays English
                parts["sentence"] = in_language(parts["sentence"], lang)
                if not parts["sentence"]:
                    return ""
            return french.format(**parts)
    return ""


def step_label(step: str, lang: str) -> str:
    w = words(STEPS, lang)
    if step.endswith("-again"):
        return w["again"].format(step=w.get(step[: -len("-again")], step[: -len("-again")]))
    return w.get(step, step)


def playbook_label(name: str | None, lang: str) -> str:
    return words(PLAYBOOKS, lang).get(name or "", name or "—")
