"""Language detection and code spotting in free text."""

from __future__ import annotations

import pytest

from remediation.signals import detect_language, parse_payload
from remediation.signals.text import MAX_MESSAGE_CHARS, find_codes, find_vm

RP_LIMIT = "UserErrorRpCollectionLimitReached"
BUOF = "BackUpOperationFailed"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The Restore Point collection max limit has reached.", "en"),
        ("VM Agent unable to communicate with Azure Backup", "en"),
        ("Erreur : la sauvegarde a échoué", "fr"),
        ("La machine virtuelle erp-app-03 n\u2019est pas joignable", "fr"),
        ("Une erreur interne s\u2019est produite. [Connexion refusée par le serveur]", "fr"),
        ("UserErrorRpCollectionLimitReached", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("see https://aka.ms/AB-UserErrorRpCollectionLimitReached", [RP_LIMIT]),
        ("aka.ms/AB-usererrorparentfullbackupmissing", ["usererrorparentfullbackupmissing"]),
        ("BackUpOperationFailed / BackUpOperationFailedV2", [BUOF, BUOF + "V2"]),
        ("failed: ExtensionSnapshotFailedNoNetwork.", ["ExtensionSnapshotFailedNoNetwork"]),
        ("**Error ID:** 181008", ["181008"]),
        ("ID d\u2019erreur : 1010", ["1010"]),
        ("DisposeArtefactsTimedOut on the appliance", ["DisposeArtefactsTimedOut"]),
        ("Gateway.Service.StateMachine.SnapshotReplicationEngine+WaitingForDisposal", []),
        ("Cannot connect to the host (1004109) with PowerShell", []),
        ("Extensions are fine in AzureBackupRG_westeurope_1", []),
    ],
)  # fmt: skip
def test_find_codes(text, codes):
    assert find_codes(text) == codes


def test_find_vm_in_azure_messages():
    assert find_vm("VM: erp-db-01. Error: Encountered timeout") == "erp-db-01"
    assert find_vm("MV : \u2018erp-db-01\u2019. Erreur") == "erp-db-01"
    assert find_vm("no machine here") is None


def test_raw_text_is_cleaned_and_capped():
    signal = parse_payload("Error\x00 ID: 1011 " + "x" * (3 * MAX_MESSAGE_CHARS))
    assert "\x00" not in signal.message
    assert len(signal.message) == MAX_MESSAGE_CHARS
    assert signal.extra["message_truncated_from"] > MAX_MESSAGE_CHARS
    assert signal.codes == ("1011",)
