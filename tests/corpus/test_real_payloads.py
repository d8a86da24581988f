"""Every real payload shape of the corpus (Azure Monitor samples, Event Grid system events, REST
list responses, replication events and jobs, alerts without the common schema) is read as
what it is, gets the scope verdict its sidecar states, and the out-of-scope and not-a-failure
ones replayed through the whole pipeline open no incident and post no card."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from remediation.classify import classify
from remediation.policy import Policy
from remediation.scope import NOT_A_FAILURE, OUT_OF_SCOPE, ignored_because
from remediation.signals import Signal, SignalError, parse_batch
from remediation.webhooks import handle_alert, handle_eventgrid
from tests.corpus.corpus import Payload, payloads
from tests.engine.signals import RecordingAccept

JSON = {"Content-Type": "application/json"}

ROOT = Path(__file__).resolve().parents[2]
QUIET = (OUT_OF_SCOPE, NOT_A_FAILURE)


def verdict(signal: Signal) -> str:
    ignored = ignored_because(signal, classify(signal), Policy().scope)
    if ignored:
        return ignored.state
    return "resolution" if signal.resolved else "failure"


def expected_verdicts(payload: Payload, count: int) -> list[str]:
    return payload.expect.get("verdicts") or [payload.expect["verdict"]] * count


@pytest.mark.parametrize("payload", payloads(), ids=lambda p: p.name)
def test_payload_is_read_as_what_it_is(payload: Payload):
    expect = payload.expect
    if expect.get("verdict") == "refused":
        with pytest.raises(SignalError, match=expect["reason"]):
            parse_batch(payload.value)
        return
    signals = parse_batch(payload.value)
    assert len(signals) == expect.get("signals", len(signals))
    assert [verdict(s) for s in signals] == expected_verdicts(payload, len(signals))
    first = signals[0]
    assert first.source.value == expect.get("source", first.source.value)
    if "vm" in expect:
        assert first.vm == expect["vm"]
    if "entry" in expect:
        assert classify(first).entry_id == expect["entry"]


def test_the_corpus_covers_every_kind_of_noise_the_issue_lists():
    services = {
        str(p.value.get("data", {}).get("essentials", {}).get("monitoringService"))
        for p in payloads()
        if isinstance(p.value, dict) and p.expect.get("verdict") == OUT_OF_SCOPE
    }
    assert {
        "CostAlerts",
        "ServiceHealth",
        "Resource Health",
        "SmartDetector",
        "Platform",
    } <= services
    names = {p.name for p in payloads()}
    assert {
        "monitor-log-v1-heartbeat-alert.test-action",
        "backup-jobs-list-in-progress-and-completed",
        "migration-item-normal-with-test-failover-warning",
    } <= names


def _quiet_payloads() -> list[Any]:
    """The out-of-scope and not-a-failure payloads, one JSON value each (batches split)."""
    values: list[Any] = []
    for payload in payloads():
        verdicts = payload.expect.get("verdicts") or [payload.expect["verdict"]]
        if set(verdicts) <= set(QUIET):
            value = payload.value
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_replaying_every_quiet_payload_opens_no_incident_and_posts_no_card(tmp_path: Path):
    values = _quiet_payloads()
    expected = sum(len(parse_batch(v)) for v in values)
    source = tmp_path / "quiet.jsonl"
    source.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "remediation", "replay", str(source), "--simulate", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["unreadable"] == 0 and summary["signals"] == expected
    assert (summary["incidents"], summary["notifications"]) == (0, 0)
    assert summary["out_of_scope"] + summary["not_failures"] == expected - summary["duplicates"]
    assert summary["arm"]["writes"] == 0


def _post_alert(payload: Any) -> tuple[int, dict, RecordingAccept]:
    accept = RecordingAccept()
    reply = asyncio.run(handle_alert(json.dumps(payload).encode(), JSON, accept, ""))
    return reply.status, reply.body, accept


def _by_name(name: str) -> Any:
    return next(p.value for p in payloads() if p.name == name)


@pytest.mark.parametrize(
    "name", ["legacy-metric-alert-storage", "legacy-activity-log-service-health",
             "legacy-log-alert-perf"],
)  # fmt: skip
def test_an_alert_without_the_common_schema_is_refused_with_the_way_to_send_it(name):
    status, body, accept = _post_alert(_by_name(name))
    assert status == 400 and accept.signals == []
    assert "enable the common alert schema on the action group" in body["error"]


def test_a_backup_alert_without_the_common_schema_is_accepted():
    status, body, accept = _post_alert(_by_name("legacy-log-alert-backup-jobs"))
    assert (status, body["signals"]) == (202, 1)
    assert accept.signals[0].vm == "erp-web-01"


def test_garbage_is_still_refused_as_not_an_alert():
    status, body, _ = _post_alert({"not": "an alert"})
    assert status == 400 and "not a common alert schema payload" in body["error"]


@pytest.mark.parametrize(
    "name", ["eventgrid-health-availability-changed", "cloudevents-health-availability-changed",
             "eventgrid-resource-write-success", "eventgrid-blob-created"],
)  # fmt: skip
def test_event_grid_system_events_about_other_resources_are_accepted(name):
    accept = RecordingAccept()
    body = json.dumps(_by_name(name)).encode()
    reply = asyncio.run(handle_eventgrid("POST", body, JSON, accept, ""))
    assert reply.status == 202 and reply.body["rejected"] == []
    assert [verdict(s) for s in accept.signals] == [OUT_OF_SCOPE]
