"""`python -m remediation serve --simulate` as a user starts it: real process, real HTTP."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from tests.botkit.activities import sample
from tests.engine.signals import load


@pytest.fixture
def served(served_process):
    return served_process.base, served_process.log


def test_alert_route_accepts_and_deduplicates(served):
    base, _ = served
    alert = load("common_alert_backup_failure_rp_limit.json")
    first = requests.post(base + "/api/alerts", json=alert, timeout=10)
    second = requests.post(base + "/api/alerts", json=alert, timeout=10)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["duplicates"] == 1


def test_malformed_input_gets_a_4xx_with_a_reason(served):
    base, _ = served
    json_type = {"Content-Type": "application/json"}
    response = requests.post(base + "/api/alerts", data=b"{oops", headers=json_type, timeout=10)
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    big = requests.post(base + "/api/alerts", data=b"x" * (300 * 1024), headers=json_type,
                        timeout=10)  # fmt: skip
    assert big.status_code == 413


def test_event_grid_handshake_and_local_trigger_endpoint(served):
    base, _ = served
    validation = load("eventgrid_subscription_validation.json")
    answer = requests.post(base + "/api/eventgrid", json=validation, timeout=10)
    assert answer.status_code == 200 and "validationResponse" in answer.json()
    event = {"id": "e1", "eventType": "X", "subject": "s", "dataVersion": "1",
             "data": load("common_alert_backup_failure_rp_limit.json")}  # fmt: skip
    url = base + "/runtime/webhooks/eventgrid?functionName=eventgrid_trigger"
    assert requests.post(url, json=[event], timeout=10).status_code == 200
    unknown = base + "/runtime/webhooks/eventgrid?functionName=nope"
    assert requests.post(unknown, json=[event], timeout=10).status_code == 404


def test_bot_endpoint_is_configured_and_refuses_unsigned_activities(served):
    base, _ = served
    activity = sample("message_channel", base + "/dev/connector/")
    response = requests.post(base + "/api/messages", json=activity, timeout=10)
    assert response.status_code == 401
    assert "Authorization" in response.json()["reason"]


def test_logs_are_structured_json(served):
    _, log = served
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any("listening on" in entry["message"] for entry in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])


def test_serve_refuses_a_queue_it_cannot_feed(monkeypatch, capsys):
    """Without --simulate the settings are the user's: a Service Bus queue is Azure's to feed."""
    from remediation.cli import main

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # serve sets up its own logs
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setenv("QUEUE_KIND", "servicebus")
    assert main(["serve", "--port", "0"]) == 2
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["level"] == "error" and "unset QUEUE_KIND" in line["message"]
