# ruff: noqa: RUF001  (typographic quotes are part of the French texts)
"""Symptom texts and code sources in the catalogue, and what the token matcher decides."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediation.catalogue import CatalogueError, default_catalogue, load_catalogue
from remediation.classify import classify_text
from remediation.explain import explain, render_text
from remediation.symptoms import THRESHOLD
from tests.catalogue.test_loader import variant, write


def test_every_code_of_the_catalogue_names_the_page_that_lists_it():
    unsourced = [
        (entry.id, code)
        for entry in default_catalogue()
        for code in entry.codes
        if not any(code.lower() in {c.lower() for c in s.codes} for s in entry.sources)
    ]
    assert unsourced == []


def test_the_agentless_replication_page_codes_are_in_the_catalogue():
    catalogue = default_catalogue()
    for code, entry_id in [
        ("566", "no-disk-snapshots-found"),
        ("NoDiskSnapshotsFound", "no-disk-snapshots-found"),
        ("1018", "cbt-fetch-changed-blocks"),
        ("ChangeBlockTrackingReset", "cbt-fetch-changed-blocks"),
        ("572", "vmware-consolidate-disks-failed"),
        ("1022", "host-connection-refused"),
        ("1011", "disk-upload-timed-out"),
    ]:
        assert [e.id for e in catalogue.by_code(code)] == [entry_id]
    assert {e.id for e in catalogue.by_code("181008")} == {
        "dispose-artefacts-timed-out",
        "no-disk-snapshots-found",
    }


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"symptoms": {"en": ["the error"]}}, "symptoms.en[0]", "at least 3"),
        ({"symptoms": {"de": ["ein Fehler ist aufgetreten"]}}, "symptoms", "en and/or fr"),
        ({"sources": [{"url": "http://x", "codes": ["SampleCode"]}]}, "sources[0].url", "https"),
        (
            {"sources": [{"url": "https://learn.microsoft.com/x", "codes": ["Other"]}]},
            "sources[0].codes",
            "not codes of this entry",
        ),
        ({"sources": [{"url": "https://learn.microsoft.com/x"}]}, "sources[0].codes", "missing"),
    ],
)
def test_bad_symptoms_and_sources_name_the_field(tmp_path: Path, changes, field, reason):
    with pytest.raises(CatalogueError) as raised:
        load_catalogue([write(tmp_path, [variant(**changes)])])
    assert f"field {field!r}" in str(raised.value) and reason in str(raised.value)


def test_symptoms_are_optional_per_language(tmp_path: Path):
    entry = variant(symptoms={"fr": ["la sauvegarde de l'échantillon a échoué"]})
    [loaded] = load_catalogue([write(tmp_path, [entry])])
    assert loaded.symptoms.en == () and loaded.symptoms.fr[0].stems[0] == "sauvegard"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        (
            "VM agent is unable to communicate with the Azure Backup Service. - Ensure the VM "
            "has network connectivity and the VM agent is latest and running.",
            "guest-agent-status-unavailable",
        ),
        ("VM is in Failed Provisioning State - Restart the VM.", "vm-provisioning-state-failed"),
        (
            "The Restore Point collection maximum limit has reached. See details on the right",
            "rp-collection-limit-reached",
        ),
    ],
)
def test_reworded_messages_are_matched_by_their_symptom_with_a_score(text, entry_id):
    found = classify_text(text)
    assert (found.entry_id, found.matched_by) == (entry_id, "symptom")
    assert THRESHOLD <= found.score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "Snapshot operation failed due to failure in creating secure network communication channel",
        "Extension installation/operation failed due to a COM+ error",
        "Échec de l’opération d’extension de Recovery Services.",
        "The backup operation failed because the VM is in Failed state.",
    ],
)
def test_look_alikes_of_other_errors_stay_unclassified(text):
    found = classify_text(text)
    assert (found.entry_id, found.score) == (None, None)


def test_codes_and_phrases_decide_with_full_confidence():
    assert classify_text("UserErrorRpCollectionLimitReached").score == 1.0
    assert classify_text("Encountered an error while trying to fetch change blocks").score == 1.0


def test_explain_shows_the_deciding_symptom_and_its_score():
    explanation = explain("VM is in Failed Provisioning State - Restart the VM.")
    assert explanation.to_dict()["matched_by"] == "symptom"
    text = render_text(explanation)
    assert (
        "Matched symptom (score 1.00, threshold 0.80): The VM is in failed provisioning state"
        in (text)
    )
    french = render_text(explain("L’agent de machine virtuelle ne peut pas communiquer avec la "
                                 "sauvegarde Microsoft Azure"))  # fmt: skip
    assert "Correspondance (symptôme, score" in french
