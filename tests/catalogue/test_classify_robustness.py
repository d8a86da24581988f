# ruff: noqa: RUF001  (typographic quotes are the point of these tests)
"""Codes, spelling variants and unknown errors: what decides, and what must stay unclassified."""

from __future__ import annotations

import pytest

from remediation.classify import classify, classify_text
from remediation.signals.model import Signal, SourceKind

DISPOSE_EN = (
    "VM: web-01. Error: Encountered timeout event 'DisposeArtefactsTimeout' in the state "
    "&'['Gateway.Service.StateMachine.SnapshotReplication.SnapshotReplicationEngine"
    "+WaitingForArtefactsDisposalPreCycle' ('WaitingForArtefactsDisposalPreCycle')]'."
)
NO_SNAPSHOTS_EN = (
    "VM: 'fin-app-03'. Error: No disksnapshots were found for the snapshot replication with "
    "snapshot ID: '6f1c2a9e-4b0d-4f7a-9d55-0c2b8e1f3a77'."
)


@pytest.mark.parametrize(
    ("text", "entry_id", "matched"),
    [
        (
            "UserErrorRpCollectionLimitReached",
            "rp-collection-limit-reached",
            "UserErrorRpCollectionLimitReached",
        ),
        (
            "usererrorrpcollectionlimitreached",
            "rp-collection-limit-reached",
            "UserErrorRpCollectionLimitReached",
        ),
        (
            "For troubleshooting instructions, see https://aka.ms/AB-UserErrorRpCollectionLimitReached",
            "rp-collection-limit-reached",
            "UserErrorRpCollectionLimitReached",
        ),
        (
            "2516288980568183370_0_46882796573241193411846827691315511505usererrorrpcollectionlimitreached",
            "rp-collection-limit-reached",
            "UserErrorRpCollectionLimitReached",
        ),
        ("Error ID: 1011", "disk-upload-timed-out", "1011"),
        ("ID d’erreur : 1010", "disk-upload-timed-out", "1010"),
        ("1022", "host-connection-refused", "1022"),
        ("BackUpOperationFailedV2", "backup-internal-error", "BackUpOperationFailedV2"),
        (
            "ExtensionOperationFailedForManagedDisks",
            "vmsnapshot-extension-failed",
            "ExtensionOperationFailedForManagedDisks",
        ),
    ],
)
def test_codes_in_text_decide(text: str, entry_id: str, matched: str):
    found = classify_text(text)
    assert (found.entry_id, found.matched_by, found.matched) == (entry_id, "code", matched)


def test_payload_code_wins_over_a_message_naming_another_error():
    signal = Signal(
        SourceKind.BACKUP_JOB,
        "Backup failed with an internal error",
        codes=("UserErrorGuestAgentStatusUnavailable",),
        vm="erp-web-01",
    )
    found = classify(signal)
    assert (found.entry_id, found.vm, found.matched_by) == (
        "guest-agent-status-unavailable",
        "erp-web-01",
        "code",
    )


@pytest.mark.parametrize(
    ("message", "entry_id"),
    [(DISPOSE_EN, "dispose-artefacts-timed-out"), (NO_SNAPSHOTS_EN, "no-disk-snapshots-found")],
)
def test_shared_code_181008_is_resolved_by_the_message(message: str, entry_id: str):
    signal = Signal(SourceKind.MIGRATION_ITEM, message, codes=("181008",))
    found = classify(signal)
    assert (found.entry_id, found.matched_by) == (entry_id, "pattern")
    assert classify_text(f"Error ID: 181008 {message}").entry_id == entry_id


def test_shared_code_alone_is_not_guessed():
    assert (
        classify(
            Signal(SourceKind.MIGRATION_ITEM, "Replication cycle failed", codes=("181008",))
        ).entry
        is None
    )
    assert classify_text("Error ID: 181008").entry is None


def test_an_integer_code_outside_the_catalogue_is_ignored():
    signal = Signal(
        SourceKind.BACKUP_JOB, "The VM is in failed provisioning state", codes=("400093",)
    )
    assert classify(signal).entry_id == "vm-provisioning-state-failed"


UPLOAD = "for disk [ds1] a/a.vmdk, 6000C29a of virtual machine a; 5012"


@pytest.mark.parametrize(
    "variant",
    [
        f"The upload of data {UPLOAD} didn’t complete within the expected time.",
        f"The upload of data {UPLOAD} didn&#39;t complete within the expected time.",
        f"THE UPLOAD OF DATA {UPLOAD.upper()} DIDN'T COMPLETE WITHIN THE EXPECTED TIME.",
        f"The upload of data\n  {UPLOAD.replace(' ', chr(9), 3)} didn't\r\ncomplete within   the"
        "\u00a0expected time.",
        f"The upload of data {UPLOAD} didnâ€™t complete within the expected time.",
    ],
)
def test_quote_case_whitespace_and_entity_variants(variant: str):
    found = classify_text(variant)
    assert (found.entry_id, found.vm.lower()) == ("disk-upload-timed-out", "a")


@pytest.mark.parametrize(
    "variant",
    [
        "MV : app-sql-02. Erreur : Événement d’expiration du délai « DisposeArtefactsTimeout »",
        "MV\u00a0: app-sql-02. Erreur\u00a0: Evenement d'expiration du delai "
        '"DisposeArtefactsTimeout" rencontre',
        "mv : app-sql-02. erreur : EVENEMENT D’EXPIRATION DU DÉLAI "
        "«\u202fDisposeArtefactsTimeout\u202f» rencontré",
    ],
)
def test_french_with_and_without_accents(variant: str):
    found = classify_text(variant)
    assert (found.entry_id, found.vm, found.language) == (
        "dispose-artefacts-timed-out",
        "app-sql-02",
        "fr",
    )


def test_vm_from_an_arm_id_in_the_text():
    text = (
        "The VM is in failed provisioning state: /subscriptions/0000/resourceGroups/rg-erp/"
        "providers/Microsoft.Compute/virtualMachines/erp-db-02"
    )
    assert classify_text(text).vm == "erp-db-02"


def test_signal_vm_wins_over_the_text():
    signal = Signal(
        SourceKind.COMMON_ALERT, "VM: other. Error: Generate Snapshot Hung", vm="erp-web-01"
    )
    assert classify(signal).vm == "erp-web-01"


@pytest.mark.parametrize(
    "message",
    [
        "First full backup is missing for this datasource.",
        "The operation has timed out.",
        "Replication cycle failed for disk 6000C29a-1b2c.",
        "An internal error occurred.",
        "Could not connect to the SQL instance MSSQLSERVER on vm-sql-prod-02.",
        "Le service de sauvegarde n'a pas pu démarrer : disque plein.",
        "Key vault 'kv-prod' was deleted",
        "azureworkloadusererrorparentfullbackupmissinglog",
        "Backup failed",
        "",
        "   ",
    ],
)
def test_unknown_errors_stay_unclassified(message: str):
    found = classify_text(message)
    assert (found.entry, found.entry_id, found.matched, found.matched_by) == (
        None,
        None,
        None,
        None,
    )


def test_a_huge_message_is_cut_before_matching():
    found = classify_text("[" * 200_000 + " generate snapshot")
    assert found.entry is None
