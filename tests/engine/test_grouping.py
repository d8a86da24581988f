"""One incident per VM and cause, whichever source reports it and in whichever language
(remediation/incidents.py, "The grouping rule"), checked with the published sample events."""

from __future__ import annotations

from collections import defaultdict

from remediation.signals import signals_from_payload
from tests.engine.signals import load, rp_limit_alert

# Every sample that reports a failure, by the source it takes.
SAMPLES = (
    "common_alert_backup_failure_rp_limit.json",  # action group, built-in Backup alert
    "eventgrid_event_wrapping_alert.json",  # the same alert through Event Grid
    "eventgrid_batch_resource_notification_and_alert.json",
    "backup_job_failed_rp_limit.json",  # the poller's Backup job
    "cloudevents_base64_backup_job.json",
    "la_addon_backup_jobs_row.json",  # Log Analytics
    "log_search_v1_backup_jobs.json",  # a log search alert with rows
    "log_search_v2.json",  # a log search alert naming the vault by name only
    "common_alert_backup_failure_guest_agent_fr.json",  # French
    "migration_item_dispose_artefacts.json",  # the poller's migration item
    "cloudevent_wrapping_migration_item.json",
    "la_asr_replicated_items_row.json",
)


def _signals(name: str):
    data = load(name)
    for payload in data if isinstance(data, list) else [data]:
        yield from signals_from_payload(payload)


def test_each_vm_and_cause_is_one_incident_across_sources_and_languages(engine):
    sources: dict[tuple[str, str], set[str]] = defaultdict(set)
    incidents: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name in SAMPLES:
        for signal in _signals(name):
            found = engine.ingest(signal)
            if found.duplicate or found.incident_id is None:
                continue
            key = (signal.vm.lower(), found.classification.entry_id)
            sources[key].add(f"{signal.source.value}/{signal.language}")
            incidents[key].add(found.incident_id)
    # The samples really do reach each VM and cause several ways...
    assert len(sources[("erp-app-03", "rp-collection-limit-reached")]) >= 3
    assert {"common-alert/fr", "common-alert/en"} <= sources[
        ("erp-web-01", "guest-agent-status-unavailable")
    ]
    assert len(sources[("erp-db-01", "dispose-artefacts-timed-out")]) >= 1
    # ...and each VM and cause is one incident.
    assert {key: len(ids) for key, ids in incidents.items()} == dict.fromkeys(incidents, 1)
    cards = engine.notifier.posts
    assert len(cards) == len({i for ids in incidents.values() for i in ids})


def test_the_french_alert_joins_the_english_incident_of_its_vm(engine):
    english = next(
        s for s in _signals("log_search_v2.json") if s.vm and s.vm.lower() == "erp-web-01"
    )
    [french] = _signals("common_alert_backup_failure_guest_agent_fr.json")
    assert (english.language, french.language) == ("en", "fr")
    assert english.vault_id is None and french.vault_id  # they do not even name one scope
    first, second = engine.ingest(english), engine.ingest(french)
    assert first.incident_id == second.incident_id
    incident = engine.incidents.get(first.incident_id)
    assert incident["vms"] == ["erp-web-01"] and incident["signal_count"] == 2


def test_a_storm_seen_by_alerts_and_by_the_poller_is_one_card(engine):
    """Other VMs of one vault group by the vault, whichever source names it."""
    [job] = _signals("backup_job_failed_rp_limit.json")
    found = {engine.ingest(rp_limit_alert(f"erp-app-{n:02d}")).incident_id for n in range(4, 9)}
    found.add(engine.ingest(job).incident_id)
    assert len(found) == 1
    [incident_id] = found
    assert engine.incidents.get(incident_id)["vm_count"] == 6


def test_the_card_says_when_azure_first_saw_the_failure_not_when_it_arrived(engine):
    signal = rp_limit_alert("erp-app-03")
    incident = engine.incidents.get(engine.ingest(signal).incident_id)
    assert incident["fired_at"] == signal.time.isoformat(timespec="seconds").replace("Z", "+00:00")
    assert incident["fired_at"] < incident["first_seen"]
    assert incident["failed_at"] == {"erp-app-03": incident["fired_at"]}


def test_the_alert_investigation_link_is_kept_as_evidence(engine):
    [signal] = _signals("common_alert_backup_failure_rp_limit.json")
    incident = engine.incidents.get(engine.ingest(signal).incident_id)
    link = load("common_alert_backup_failure_rp_limit.json")["data"]["essentials"]
    assert incident["evidence"][0]["investigation_link"] == link["investigationLink"]
