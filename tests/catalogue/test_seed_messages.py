# ruff: noqa: RUF001  (typographic quotes are the point of these tests)
"""Every error message of the seed documents classifies to its entry, placeholders filled in."""

from __future__ import annotations

import pytest

from remediation.catalogue import default_catalogue
from remediation.classify import Classifier, classify_text, default_classifier

DISPOSE_STATE = (
    "&'['Gateway.Service.StateMachine.SnapshotReplication.SnapshotReplicationEngine"
    "+WaitingForArtefactsDisposalPreCycle' ('WaitingForArtefactsDisposalPreCycle')]'."
)

# (message as written in the seed with placeholders filled in, entry id, vm named by the message)
ENGLISH = [
    (
        "Key Vault operation failed. Operation: Configure managed storage account, Key Vault: "
        "migratekv1329610309, Storage Account: migratelsa1329610309 failed with the error:",
        "keyvault-operation-failed",
        None,
    ),
    (
        "Key Vault operation failed. Operation: Generate shared access signature definition, Key "
        "Vault: migratekv1329610309, Storage Account: migratelsa1329610309 failed with the error:",
        "keyvault-operation-failed",
        None,
    ),
    (
        "VM: web-01.contoso.local. Error: Encountered timeout event 'DisposeArtefactsTimeout' in "
        "the state " + DISPOSE_STATE,
        "dispose-artefacts-timed-out",
        "web-01.contoso.local",
    ),
    (
        "The upload of data for disk [datastore1] web-01/web-01_1.vmdk, "
        "6000C29a-1b2c-3d4e-5f60-718293a4b5c6 of virtual machine web-01; "
        "50123abc-9def-4a5b-8c7d-112233445566 didn't complete within the expected time.",
        "disk-upload-timed-out",
        "web-01",
    ),
    ("Encountered an error while trying to fetch change blocks", "cbt-fetch-changed-blocks", None),
    (
        "An internal error occurred. [Server Refused Connection]",
        "vmware-server-refused-connection",
        None,
    ),
    (
        "An internal error occurred. ['An Invalid snapshot configuration was detected.']",
        "vmware-invalid-snapshot-config",
        None,
    ),
    ("An internal error occurred. [Generate Snapshot Hung]", "vmware-generate-snapshot-hung", None),
    (
        "An internal error occurred. [Failed to consolidate the disks on VM [Disk is locked]]",
        "vmware-consolidate-disks-failed",
        None,
    ),
    (
        "An internal error occurred. [Another task is already in progress]",
        "vmware-task-in-progress",
        None,
    ),
    (
        "An internal error occurred. [Operation not allowed in current state]",
        "vmware-operation-not-allowed",
        None,
    ),
    (
        "An internal error occurred. [Snapshot Disk size invalid]",
        "vmware-snapshot-disk-size-invalid",
        None,
    ),
    (
        "An internal error occurred. [Memory allocation failed. Out of memory.]",
        "vmware-nfc-out-of-memory",
        None,
    ),
    (
        "An internal error occurred. [File is larger than maximum file size supported (1012384)]",
        "vmware-file-too-large",
        None,
    ),
    (
        "An internal error occurred. [Cannot connect to the host (1004109)]",
        "vmware-host-unreachable",
        None,
    ),
    (
        "An error occurred while saving the snapshot: Invalid change tracker error code",
        "vmware-invalid-change-tracker",
        None,
    ),
    (
        "An error occurred while taking a snapshot: Unable to open the snapshot file.",
        "vmware-snapshot-file-open-failed",
        None,
    ),
    (
        "VM: 'fin-app-03'. Error: No disksnapshots were found for the snapshot replication with "
        "snapshot ID: '6f1c2a9e-4b0d-4f7a-9d55-0c2b8e1f3a77'.",
        "no-disk-snapshots-found",
        "fin-app-03",
    ),
    (
        "The Azure Migrate appliance is unable to connect to the vSphere host 'esx-07.corp.local'",
        "host-connection-refused",
        None,
    ),
    (
        "Azure Key Vault create or update operation failed for migratekv4411 due to the error "
        "Forbidden: caller has no access policy",
        "forbidden-to-access-keyvault",
        None,
    ),
    (
        "The appliance could not initiate discovery as the on-premises agent is unable to "
        "communicate to the Azure Migrate service endpoint: "
        "04b8c9c7-agent.cus.disc.privatelink.prod.migration.windowsazure.com in Azure.",
        "agent-not-connected",
        None,
    ),
    ("VM Agent unable to communicate with Azure Backup", "guest-agent-status-unavailable", None),
    (
        "Could not communicate with the VM agent for snapshot status",
        "guest-agent-snapshot-status-error",
        None,
    ),
    ("The VM is in failed provisioning state", "vm-provisioning-state-failed", None),
    ("The Restore Point collection max limit has reached.", "rp-collection-limit-reached", None),
    (
        "Backup doesn't have sufficient permissions to the key vault for backup of encrypted VMs.",
        "backup-keyvault-permissions-not-configured",
        None,
    ),
    (
        "Snapshot operation failed due to no network connectivity on the virtual machine",
        "snapshot-no-network",
        None,
    ),
    ("VMSnapshot extension operation failed", "vmsnapshot-extension-failed", None),
    (
        "Backup failed with an internal error - Please retry the operation in a few minutes",
        "backup-internal-error",
        None,
    ),
    (
        "The configured disk size(s) is currently not supported by Azure Backup.",
        "unsupported-disk-size",
        None,
    ),
    (
        "Unable to initiate backup as another backup operation is currently in progress",
        "backup-operation-in-progress",
        None,
    ),
    (
        "Backup failed due to an error. For details, see Job Error Message Details.",
        "crp-reported-user-error",
        None,
    ),
    (
        "Backup failed: This virtual machine is not (actively) protected by Azure Backup.",
        "datasource-not-protected",
        None,
    ),
]

FRENCH = [
    (
        "L'opération de Key Vault a échoué. Opération : Configurer un compte de stockage managé, "
        "Key Vault : migratekv1329610309, Compte de stockage : migratelsa1329610309 a échoué "
        "avec l'erreur :",
        "keyvault-operation-failed",
        None,
    ),
    (
        "MV : app-sql-02. Erreur : Événement d’expiration du délai « DisposeArtefactsTimeout » "
        "rencontré dans l’état " + DISPOSE_STATE,
        "dispose-artefacts-timed-out",
        "app-sql-02",
    ),
    (
        "Le chargement des données du disque [datastore1] web-01/web-01.vmdk, "
        "6000C29a-1b2c-3d4e-5f60-718293a4b5c6 de la machine virtuelle web-01, "
        "50123abc-9def-4a5b-8c7d-112233445566 ne s’est pas terminé dans le délai imparti.",
        "disk-upload-timed-out",
        "web-01",
    ),
    (
        "Une erreur s’est produite lors de la tentative de récupération des blocs modifiés",
        "cbt-fetch-changed-blocks",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Connexion refusée par le serveur]",
        "vmware-server-refused-connection",
        None,
    ),
    (
        "Une erreur interne s’est produite. [« Une configuration d’instantané non valide a été "
        "détectée. »]",
        "vmware-invalid-snapshot-config",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Suspension de la génération de l’instantané]",
        "vmware-generate-snapshot-hung",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Échec de la consolidation des disques sur les "
        "machines virtuelles [Disque verrouillé] ]",
        "vmware-consolidate-disks-failed",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Une autre tâche est déjà en cours]",
        "vmware-task-in-progress",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Opération non autorisée dans l’état actuel]",
        "vmware-operation-not-allowed",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Taille du disque d’instantané non valide]",
        "vmware-snapshot-disk-size-invalid",
        None,
    ),
    (
        "Une erreur interne s’est produite. [L’allocation de mémoire a échoué. Mémoire "
        "insuffisante.]",
        "vmware-nfc-out-of-memory",
        None,
    ),
    (
        "Une erreur interne s’est produite. [Message d’erreur inconnu de VMware]",
        "vmware-internal-error",
        None,
    ),
]


@pytest.mark.parametrize(("message", "entry_id", "vm"), ENGLISH + FRENCH)
def test_seed_message_classifies_to_its_entry(message: str, entry_id: str, vm: str | None):
    found = classify_text(message)
    assert found.entry_id == entry_id
    assert found.entry is not None and found.entry.id == entry_id
    assert found.vm == vm
    assert found.matched_by == "pattern"


@pytest.mark.parametrize(("message", "entry_id", "vm"), FRENCH)
def test_french_messages_are_reported_as_french(message: str, entry_id: str, vm: str | None):
    assert classify_text(message).language == "fr"


@pytest.mark.parametrize(("message", "entry_id", "vm"), ENGLISH)
def test_english_messages_are_reported_as_english(message: str, entry_id: str, vm: str | None):
    assert classify_text(message).language == "en"


def test_every_entry_is_reached_by_some_seed_message():
    reached = {entry_id for _, entry_id, _ in ENGLISH + FRENCH}
    assert reached == {e.id for e in default_catalogue()}


def test_unknown_bracketed_reason_falls_back_to_vmware_internal_error():
    found = classify_text(
        "An internal error occurred. "
        "[The object 'vim.VirtualMachine:vm-4521' has already been deleted]"
    )
    assert found.entry_id == "vmware-internal-error"


def test_known_reason_wins_over_the_fallback_whatever_the_catalogue_order():
    catalogue = default_catalogue()
    reordered = type(catalogue)(tuple(reversed(catalogue.entries)))
    found = Classifier(reordered).classify_text(
        "An internal error occurred. [Generate Snapshot Hung]"
    )
    assert found.entry_id == "vmware-generate-snapshot-hung"


def test_default_classifier_is_built_once():
    assert default_classifier() is default_classifier()
