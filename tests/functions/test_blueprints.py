"""Each registered function through real azure.functions request objects."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from azure.functions.servicebus import ServiceBusMessage

from tests.engine.signals import load
from tests.function_app_fixture import call, registered_functions, run_queue

ROUTES = {"alerts": "alerts", "eventgrid_webhook": "eventgrid"}


@pytest.fixture
def app(tmp_path, monkeypatch):
    """function_app with its services on a fresh SQLite store."""
    with registered_functions(tmp_path, monkeypatch) as (functions, composition):
        yield functions, composition.services()


def _post(function, body: bytes, method="POST", headers=None) -> func.HttpResponse:
    request = func.HttpRequest(
        method, "http://localhost/api/x", headers=headers or {}, params={}, body=body
    )
    return call(function, req=request)


def test_functions_have_the_expected_triggers_and_routes(app):
    functions, _ = app
    triggers = {name: f.get_trigger() for name, f in functions.items()}
    assert {n: t.type for n, t in triggers.items()} == {
        "alerts": "httpTrigger",
        "eventgrid_webhook": "httpTrigger",
        "eventgrid_trigger": "eventGridTrigger",
        "poller": "timerTrigger",
        "remediation_step": "serviceBusTrigger",
        "messages": "httpTrigger",
    }
    assert triggers["alerts"].route == "alerts"
    assert [str(m) for m in triggers["alerts"].methods] == ["POST"]
    assert triggers["eventgrid_webhook"].route == "eventgrid"
    assert triggers["messages"].route == "messages"
    assert str(triggers["messages"].auth_level) == "ANONYMOUS"
    assert triggers["remediation_step"].is_sessions_enabled
    assert triggers["poller"].schedule == "%POLLER_SCHEDULE%"


def test_alert_webhook_accepts_once_and_deduplicates(app):
    functions, services = app
    body = json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()
    first = _post(functions["alerts"], body)
    second = _post(functions["alerts"], body)
    assert first.status_code == second.status_code == 202
    assert json.loads(second.get_body())["duplicates"] == 1
    assert run_queue(functions, services) == 1, "the duplicate sent nothing more"
    assert len(services.engine.incidents.open_incidents()) == 1


def test_alert_webhook_answers_before_processing(app):
    functions, services = app
    body = json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()
    reply = _post(functions["alerts"], body)
    assert reply.status_code == 202
    assert json.loads(reply.get_body()) == {"status": "accepted", "signals": 1, "duplicates": 0}
    assert services.engine.incidents.open_incidents() == [], "no incident before the queue runs"
    assert run_queue(functions, services) == 1
    [incident] = services.engine.incidents.open_incidents()
    assert incident["entry_id"] == "rp-collection-limit-reached"


def _queue_down(monkeypatch, services) -> None:
    def send(message):
        raise ConnectionError("Service Bus unreachable")

    monkeypatch.setattr(services.engine.queue, "send", send)


def test_a_queue_outage_answers_503_and_the_retry_is_queued(app, monkeypatch):
    functions, services = app
    body = json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()
    with monkeypatch.context() as patch:
        _queue_down(patch, services)
        refused = _post(functions["alerts"], body)
        batch = json.dumps(load("eventgrid_event_wrapping_alert.json")).encode()
        refused_batch = _post(functions["eventgrid_webhook"], batch)
    for reply in (refused, refused_batch):
        assert reply.status_code == 503
        assert "recorded but not queued" in json.loads(reply.get_body())["error"]
    retried = _post(functions["alerts"], body)  # the action group's retry
    assert retried.status_code == 202
    assert run_queue(functions, services) == 1
    assert len(services.engine.incidents.open_incidents()) == 1


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty body"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (json.dumps({"schemaId": "other"}).encode(), 400, "common alert schema"),
        (json.dumps([1, 2]).encode(), 400, "common alert schema"),
        (b'{"schemaId": "azureMonitorCommonAlertSchema", "data": 5}', 400, ""),
        (b" " * (256 * 1024 + 1), 413, "limit"),
    ],
)
def test_malformed_alerts_get_a_4xx_with_a_reason_and_store_nothing(app, body, status, reason):
    functions, services = app
    response = _post(functions["alerts"], body)
    assert response.status_code == status
    assert reason in json.loads(response.get_body())["error"]
    assert services.engine.incidents.open_incidents() == []


def test_eventgrid_handshakes_for_both_schemas(app):
    functions, _ = app
    validation = load("eventgrid_subscription_validation.json")
    response = _post(functions["eventgrid_webhook"], json.dumps(validation).encode())
    event = validation[0] if isinstance(validation, list) else validation
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {
        "validationResponse": event["data"]["validationCode"]
    }
    options = _post(
        functions["eventgrid_webhook"],
        b"",
        method="OPTIONS",
        headers={"WebHook-Request-Origin": "eventgrid.azure.net"},
    )
    assert options.status_code == 200
    assert options.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"


def test_eventgrid_delivery_of_a_wrapped_alert_is_ingested(app):
    functions, services = app
    body = json.dumps(load("eventgrid_event_wrapping_alert.json")).encode()
    assert _post(functions["eventgrid_webhook"], body).status_code == 202
    run_queue(functions, services)
    assert len(services.engine.incidents.open_incidents()) == 1


def test_eventgrid_trigger_ingests_the_event_data(app):
    functions, services = app
    alert = load("common_alert_backup_failure_rp_limit.json")
    event = func.EventGridEvent(
        id="e-1", data=alert, topic="/t", subject="/s",
        event_type="Contoso.Remediation.Alert", event_time=None, data_version="1",
    )  # fmt: skip
    call(functions["eventgrid_trigger"], event=event)
    run_queue(functions, services)
    assert len(services.engine.incidents.open_incidents()) == 1


def test_remediation_step_drops_an_unreadable_message(app, caplog):
    functions, _ = app
    message = ServiceBusMessage(
        body=b"garbage", message_id="m1", session_id="vm1",
        application_properties={}, user_properties={},
    )  # fmt: skip
    functions["remediation_step"].get_user_function()(msg=message)
    assert "dropped" in caplog.text


def test_alert_secret_is_required_when_configured(app, monkeypatch):
    functions, _ = app
    monkeypatch.setenv("ALERTS_SHARED_SECRET", "s3cret-value")
    body = json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()

    def post(headers=None, params=None):
        request = func.HttpRequest(
            "POST", "http://localhost/api/alerts", headers=headers or {}, params=params or {},
            body=body,
        )  # fmt: skip
        return call(functions["alerts"], req=request)

    refused = post()
    assert refused.status_code == 401 and "secret" in json.loads(refused.get_body())["error"]
    assert b"s3cret-value" not in refused.get_body()
    assert post(params={"secret": "wrong"}).status_code == 401
    assert post(params={"secret": "s3cret-value"}).status_code == 202
    assert post(headers={"x-alert-secret": "s3cret-value"}).status_code == 202
