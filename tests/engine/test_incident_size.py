"""A storm of thousands of VMs with long names stays one incident the store can hold: VMs are
listed up to a size budget and counted beyond it, and cards say how many more there are."""

from __future__ import annotations

import json

from bot.incident_card import incident_card
from remediation import incidents
from remediation.incidents import EVIDENCE_CHARS, MAX_NOTES, NOTE_CHARS, add_note
from remediation.store.base import MAX_DOCUMENT_CHARS, encode_document
from tests.bot_app.test_incident_flow import texts
from tests.engine.signals import rp_limit_alert

STORM = 2_000


def _name(n: int, length: int = 200, letter: str = "x") -> str:
    tag = f"vm-{n:05d}-"
    return tag + letter * (length - len(tag))


def test_a_storm_of_2000_vms_with_200_character_names_is_one_incident_under_the_limit(engine):
    names = [_name(n) for n in range(STORM)]
    for name in names:
        engine.ingest(rp_limit_alert(name))

    [incident] = engine.incidents.open_incidents()
    assert len(encode_document(incident)) <= MAX_DOCUMENT_CHARS // 2
    assert (incident["vm_count"], incident["active_count"]) == (STORM, STORM)
    assert incident["signal_count"] == STORM
    listed = incident["vms"]
    assert 50 <= len(listed) < STORM and listed == names[: len(listed)], "the first, in order"
    assert incident["active_vms"] == listed and set(incident["resources"]) == set(listed)
    assert any("counted" in note for note in incident["notes"])

    said = texts(incident_card(engine.view(incident["id"])))
    affected = next(row for row in said.splitlines() if row.startswith(f"VMs ({STORM}): "))
    assert affected.endswith(f", and {STORM - 5} more")
    assert f"{STORM} reported failing" in said.splitlines()  # no fix has read Azure

    for n in (0, STORM - 1):  # listed and counted VMs are both found by name
        assert [i["id"] for i in engine.incidents.for_vm(names[n].upper())] == [incident["id"]]


def test_repeats_and_resolutions_of_listed_and_counted_vms_keep_the_counts_right(engine):
    names = [_name(n) for n in range(300)]
    for name in names:
        engine.ingest(rp_limit_alert(name))
    listed, counted = names[0], names[-1]
    vms = engine.incidents.open_incidents()[0]["vms"]
    assert listed in vms and counted not in vms
    for name in (listed, counted):
        engine.ingest(rp_limit_alert(name, alert_no=2))  # a new alert for a known VM
        engine.ingest(rp_limit_alert(name, alert_no=3, resolved=True), from_azure=True)

    [incident] = engine.incidents.open_incidents()
    assert (incident["vm_count"], incident["active_count"]) == (300, 298)
    assert incident["signal_count"] == 302
    assert listed not in incident["active_vms"]


def test_counting_stops_at_its_bound_and_the_longest_identifiers_still_fit(engine, monkeypatch):
    monkeypatch.setattr(incidents, "MAX_COUNTED_VMS", 30)
    names = [_name(n, length=1_800, letter="é") for n in range(40)]  # 6 JSON characters each
    for name in names:
        engine.ingest(rp_limit_alert(name))

    [incident] = engine.incidents.open_incidents()
    assert len(encode_document(incident)) <= MAX_DOCUMENT_CHARS
    listed = len(incident["vms"])
    assert incident["vm_count"] == listed + 30 < len(names)
    assert any("not counted" in note for note in incident["notes"])
    assert len(json.dumps(incident["evidence"])) <= EVIDENCE_CHARS
    assert 1 <= len(incident["evidence"]) < incidents.MAX_SAMPLES


def test_notes_are_few_and_short():
    doc: dict = {}
    for n in range(MAX_NOTES + 10):
        doc = add_note(doc, f"{n:02d} " + "y" * 1_000)
    assert len(doc["notes"]) == MAX_NOTES
    assert all(len(note) == NOTE_CHARS for note in doc["notes"])


def test_the_newest_notes_are_kept_in_the_order_they_came():
    """Notes tell what happened last (an escalation, a refused resolution): past the limit
    the oldest go, whatever their wording, and a note said again moves to the end."""
    doc: dict = {}
    for n in range(MAX_NOTES + 5):
        doc = add_note(doc, f"{'z' if n % 2 else 'a'} note {n}")
    doc = add_note(doc, "A escalated by Alex")
    doc = add_note(doc, f"z note {MAX_NOTES + 3}")  # said again: now the newest
    assert doc["notes"][-2:] == ["A escalated by Alex", f"z note {MAX_NOTES + 3}"]
    assert len(doc["notes"]) == MAX_NOTES and len(set(doc["notes"])) == MAX_NOTES
    assert "z note 5" not in doc["notes"] and doc["notes"][0] == "a note 6"


def test_an_unclassified_text_naming_dozens_of_codes_has_a_short_root_cause():
    from remediation.classify import classify
    from remediation.signals import Signal, SourceKind

    codes = tuple(f"UnknownVendorFailureNumber{n:03}Happened" for n in range(60))
    signal = Signal(SourceKind.RAW_TEXT, " ".join(codes), codes)
    cause = incidents.root_cause_of(signal, classify(signal))
    assert cause.startswith("unclassified:") and len(cause) <= 13 + 12
    assert cause == incidents.root_cause_of(signal, classify(signal))  # stable
    few = Signal(SourceKind.RAW_TEXT, "x", codes[:2])
    assert incidents.root_cause_of(few, classify(few)) == "unclassified:" + ",".join(
        sorted(c.lower() for c in codes[:2])
    )
