"""The loader refuses a bad catalogue with a message naming the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from remediation.catalogue import CatalogueError, default_catalogue, load_catalogue
from remediation.catalogue.loader import PLAYBOOKS

GOOD = {
    "id": "sample-error",
    "title": {"en": "Sample", "fr": "Exemple"},
    "service": "backup",
    "severity": "warning",
    "codes": ["SampleCode", "4242"],
    "patterns": {"en": ["sample {} failed"], "fr": ["re:echantillon \\w+ en echec"]},
    "causes": {"en": ["Because."], "fr": ["Parce que."]},
    "fix_steps": {"en": ["Fix it."], "fr": ["Corrigez."]},
    "doc_url": "https://learn.microsoft.com/azure/backup/",
    "automation": {"playbook": "retry-backup", "mode": "auto", "preconditions": ["nothing runs"]},
}


def write(tmp_path: Path, entries: list, name: str = "svc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    return path


def variant(**changes) -> dict:
    entry = {**GOOD}
    for key, value in changes.items():
        if value is None:
            entry.pop(key)
        else:
            entry[key] = value
    return entry


def test_a_valid_file_loads_into_frozen_entries(tmp_path: Path):
    catalogue = load_catalogue([write(tmp_path, [GOOD])])
    entry = catalogue.get("sample-error")
    assert entry is not None and entry.file == "svc.yaml"
    assert entry.title.get("fr") == "Exemple" and entry.codes == ("SampleCode", "4242")
    assert catalogue.by_code("samplecode") == (entry,)
    assert entry.automation.preconditions == ("nothing runs",)
    with pytest.raises(AttributeError):
        entry.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        (variant(colour="red"), "colour", "unknown field"),
        (variant(title=None), "title", "missing"),
        (variant(title={"en": "Only English"}), "title.fr", "missing"),
        (variant(service="storage"), "service", "must be one of"),
        (variant(severity="high"), "severity", "must be one of"),
        (variant(codes=[1011]), "codes", "quote numeric ids"),
        (
            variant(patterns={"en": ["re:(unclosed"], "fr": ["x"]}),
            "patterns.en[0]",
            "does not compile",
        ),
        (variant(patterns={"en": ["{}"], "fr": ["x"]}), "patterns.en[0]", "does not compile"),
        (
            variant(automation={"playbook": "retry-backup", "mode": "sometimes"}),
            "automation.mode",
            "must be one of",
        ),
        (
            variant(automation={"playbook": "reboot-it", "mode": "auto"}),
            "automation.playbook",
            "must be one of",
        ),
        (
            variant(automation={"playbook": None, "mode": "auto"}),
            "automation.mode",
            "manual exactly",
        ),
        (variant(automation={"mode": "manual"}), "automation.playbook", "missing"),
        (variant(doc_url="http://example.com"), "doc_url", "https://"),
        (variant(causes={"en": [], "fr": ["x"]}), "causes.en", "non-empty list"),
        (variant(id="Sample Error"), "id", "lower-case"),
    ],
)
def test_invalid_entries_name_file_entry_and_field(
    tmp_path: Path, entry: dict, field: str, reason: str
):
    path = write(tmp_path, [entry])
    with pytest.raises(CatalogueError) as raised:
        load_catalogue([path])
    message = str(raised.value)
    assert message.startswith("svc.yaml: entry ")
    assert f"field {field!r}" in message and reason in message
    if entry.get("id") == GOOD["id"]:
        assert "'sample-error'" in message


def test_duplicate_ids_across_files_name_both_files(tmp_path: Path):
    first, second = write(tmp_path, [GOOD], "a.yaml"), write(tmp_path, [GOOD], "b.yaml")
    with pytest.raises(
        CatalogueError,
        match=r"b\.yaml: entry 'sample-error': field 'id': duplicate id, first defined in a\.yaml",
    ):
        load_catalogue([first, second])


@pytest.mark.parametrize("content", ["entries: [", "- just a list", "entries: []", "other: 1"])
def test_unreadable_or_misshapen_files_name_the_file(tmp_path: Path, content: str):
    path = tmp_path / "broken.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"^broken\.yaml: "):
        load_catalogue([path])


def test_packaged_catalogue_holds_both_languages_and_known_playbooks():
    catalogue = default_catalogue()
    assert len(catalogue) >= 33
    for entry in catalogue:
        for lang in ("en", "fr"):
            assert entry.title.get(lang) and entry.causes.get(lang) and entry.fix_steps.get(lang)
            assert entry.patterns.get(lang)
        assert entry.automation.playbook in (*PLAYBOOKS, None)


@pytest.mark.parametrize(
    ("entry_id", "playbook", "mode"),
    [
        ("cbt-fetch-changed-blocks", "repair-replication", "auto"),
        ("rp-collection-limit-reached", "cleanup-restore-points", "approval"),
        ("backup-internal-error", "retry-backup", "auto"),
        ("vm-provisioning-state-failed", "reset-snapshot-extension", "approval"),
        ("agent-not-connected", "diagnose", "auto"),
        ("unsupported-disk-size", None, "manual"),
    ],
)
def test_required_playbook_mapping(entry_id: str, playbook: str | None, mode: str):
    automation = default_catalogue().get(entry_id).automation
    assert (automation.playbook, automation.mode) == (playbook, mode)


def test_code_181008_is_shared_and_other_codes_are_not():
    catalogue = default_catalogue()
    assert {e.id for e in catalogue.by_code("181008")} == {
        "dispose-artefacts-timed-out",
        "no-disk-snapshots-found",
    }
    assert [e.id for e in catalogue.by_code("1011")] == ["disk-upload-timed-out"]
