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


def _post(function, body: bytes, method="POST", headers=None, params=None) -> func.HttpResponse:
    """A request as action groups and Event Grid send it (JSON), with `headers` on top."""
    headers = {"Content-Type": "application/json"} | (headers or {})
    request = func.HttpRequest(
        method, "http://localhost/api/x", headers=headers, params=params or {}, body=body
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


SECRET = "s3cret-value"
ALERT = json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()
WRAPPED = json.dumps(load("eventgrid_event_wrapping_alert.json")).encode()


@pytest.mark.parametrize(("function", "body"), [("alerts", ALERT), ("eventgrid_webhook", WRAPPED)])
def test_the_ingestion_secret_is_required_when_configured(app, monkeypatch, function, body):
    functions, services = app
    monkeypatch.setenv("ALERTS_SHARED_SECRET", SECRET)

    def post(**options):
        return _post(functions[function], body, **options)

    refused = [
        post(),
        post(params={"secret": "wrong"}),
        post(headers={"x-alert-secret": SECRET[:-1]}),
        post(params={"secret": SECRET + "x"}),
        post(params={"secret": "\udcff"}),  # a query string that decoded to no valid text
        post(params={"code": SECRET}),  # a function key's place is not the secret's
    ]
    for response in refused:
        assert response.status_code == 401
        assert "secret" in json.loads(response.get_body())["error"]
        assert SECRET.encode() not in response.get_body()
    assert services.engine.store.query("signals") == [], "nothing recorded without the secret"
    assert post(params={"secret": SECRET}).status_code == 202
    assert post(headers={"X-Alert-Secret": SECRET}).status_code == 202
    assert len(services.engine.store.query("signals")) == 1, "recorded once, then a duplicate"


def test_event_grid_handshakes_work_for_a_subscription_whose_url_carries_the_secret(
    app, monkeypatch
):
    functions, _ = app
    monkeypatch.setenv("ALERTS_SHARED_SECRET", SECRET)
    webhook = functions["eventgrid_webhook"]
    validation = json.dumps(load("eventgrid_subscription_validation.json")).encode()
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    assert _post(webhook, validation).status_code == 401
    assert _post(webhook, b"", method="OPTIONS", headers=origin).status_code == 401
    answered = _post(webhook, validation, params={"secret": SECRET})
    assert answered.status_code == 200 and "validationResponse" in json.loads(answered.get_body())
    allowed = _post(webhook, b"", method="OPTIONS", headers=origin, params={"secret": SECRET})
    assert allowed.status_code == 200
    assert allowed.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/jsonp", "json"],
)  # fmt: skip
@pytest.mark.parametrize(("function", "body"), [("alerts", ALERT), ("eventgrid_webhook", WRAPPED)])
def test_a_body_that_is_not_json_by_its_content_type_gets_415(app, function, body, content_type):
    functions, services = app
    request = func.HttpRequest(
        "POST", "http://localhost/api/x", body=body,
        headers={"Content-Type": content_type} if content_type else {},
    )  # fmt: skip
    response = call(functions[function], req=request)
    assert response.status_code == 415
    assert "content type" in json.loads(response.get_body())["error"]
    assert services.engine.store.query("signals") == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=utf-8", "application/cloudevents+json",
     "application/cloudevents-batch+json; charset=utf-8"],
)  # fmt: skip
def test_json_and_cloudevents_content_types_are_accepted(app, content_type):
    functions, _ = app
    response = _post(
        functions["eventgrid_webhook"], WRAPPED, headers={"Content-Type": content_type}
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (ALERT.replace(b"erp-app-03", b"evil\\ud800vm"), "lone UTF-16 surrogate"),
        (ALERT.replace(b"erp-app-03", b"evil\\udfffvm"), "lone UTF-16 surrogate"),
        (b'{"a":' * 5000 + b"0" + b"}" * 5000, "nested more than"),
        (b"[" * 201 + b"]" * 201, "nested more than"),
    ],
)
def test_unencodable_text_and_deep_nesting_are_refused_before_anything_is_recorded(
    app, body, reason
):
    functions, services = app
    response = _post(functions["alerts"], body)
    assert response.status_code == 400
    assert reason in json.loads(response.get_body())["error"]
    assert services.engine.store.query("signals") == []


def test_a_surrogate_pair_is_text_like_any_other(app):
    """Only a lone surrogate is refused: an escaped pair is one valid character."""
    functions, services = app
    paired = ALERT.replace(b"erp-app-03", b"erp-app-\\ud83d\\ude00")
    assert _post(functions["alerts"], paired).status_code == 202
    assert run_queue(functions, services) == 1
    [incident] = services.engine.incidents.open_incidents()
    assert "erp-app-\U0001f600" in json.dumps(incident, ensure_ascii=False)


def test_the_event_grid_trigger_ignores_an_event_with_unencodable_text(app, caplog):
    functions, services = app
    alert = json.loads(ALERT.replace(b"erp-app-03", b"evil\\ud800vm"))
    event = func.EventGridEvent(
        id="e-bad", data=alert, topic="/t", subject="/s",
        event_type="Contoso.Remediation.Alert", event_time=None, data_version="1",
    )  # fmt: skip
    call(functions["eventgrid_trigger"], event=event)  # no exception: Event Grid would retry
    assert services.engine.store.query("signals") == []
    assert "event e-bad ignored" in caplog.text and "surrogate" in caplog.text
