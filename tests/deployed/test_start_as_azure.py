"""The app starts with exactly the settings infra/main.bicep deploys, as Azure starts it.

The settings are computed from the Bicep itself (tests/infra/bicep_settings.py): literals and
parameters as written, module outputs replaced by the stand-ins' addresses. Only the
settings that say where the stand-ins listen are added (ARM endpoint, the CA they share, the
AMQP endpoint in front of the namespace) and the managed identity's token endpoint, which the
platform provides in Azure. Then function_app is imported and each function is driven
through the Functions library's own request objects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from remediation.settings import SETTINGS
from tests.engine.signals import load
from tests.function_app_fixture import call
from tests.infra.bicep_settings import app_setting_names
from tests.store.azurite import ACCOUNT, free_port

from .azure_settings import (
    IDENTITY_CLIENT_ID,
    PLATFORM_CLEARED,
    PLATFORM_SET,
    SHARED_SECRET,
    STAND_IN_ADDRESSES,
    alert_request,
    azure_settings,
    bus_message,
    common_alert,
)


@pytest.fixture
def start_app(stand_ins, monkeypatch) -> Iterator[Any]:
    """Set exactly the given settings, then import function_app; returns its functions."""
    from wiring import services as composition

    def start(settings: dict[str, str]) -> dict[str, Any]:
        for name in {s.name for s in SETTINGS} | set(PLATFORM_CLEARED):
            monkeypatch.delenv(name, raising=False)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        composition.services.cache_clear()
        import function_app

        function_app.app.functions_bindings = None  # the library lists an app's functions once
        return {f.get_function_name(): f for f in function_app.app.get_functions()}

    yield start
    composition.services.cache_clear()


def test_only_stand_in_addresses_are_added_to_the_deployed_settings(stand_ins) -> None:
    declared = {s.name: s for s in SETTINGS}
    settings = azure_settings(stand_ins)
    for name in STAND_IN_ADDRESSES:
        assert not declared[name].deployed, f"{name} is deployed: the Bicep must set it"
    assert set(settings) - set(app_setting_names()) == {*STAND_IN_ADDRESSES, *PLATFORM_SET}


def test_every_function_answers_with_the_deployed_settings(stand_ins, start_app) -> None:
    functions = start_app(azure_settings(stand_ins))
    queue = stand_ins.servicebus
    sent_before = len(queue.messages("remediation"))

    reply = call(functions["alerts"], req=alert_request(common_alert()))
    assert reply.status_code == 202, reply.get_body()
    [message] = queue.messages("remediation")[sent_before:]
    assert message["session_id"], "every message has its resource session"

    call(functions["remediation_step"], msg=bus_message(message))
    from wiring.services import services

    [incident] = services().engine.incidents.open_incidents()
    assert incident["entry_id"] == "rp-collection-limit-reached"

    handshake = load("eventgrid_subscription_validation.json")
    grid = func.HttpRequest(
        "POST", "https://func.example/api/eventgrid", headers={"Content-Type": "application/json"},
        params={"code": "checked-by-the-functions-host", "secret": SHARED_SECRET},
        body=json.dumps(handshake).encode(),
    )  # fmt: skip
    answer = call(functions["eventgrid_webhook"], req=grid)
    assert answer.status_code == 200 and "validationResponse" in json.loads(answer.get_body())

    alert = json.loads(common_alert())
    alert["data"]["essentials"]["alertId"] += "-via-event-grid"
    event = func.EventGridEvent(
        id="e-1", data=alert, topic="/subscriptions/s/resourceGroups/rg/topics/t",
        subject="alerts/backup-failure", event_type="Contoso.Monitoring.AlertFired",
        event_time=dt.datetime.now(dt.UTC), data_version="1",
    )  # fmt: skip
    call(functions["eventgrid_trigger"], event=event)
    assert len(queue.messages("remediation")) == sent_before + 2

    managed_identity_tokens = stand_ins.sim.tokens.requests["managed_identity"]
    call(functions["poller"], timer=TimerRequest(past_due=False))
    assert stand_ins.sim.requests.count("asr.items.list") >= 1, "the poller read ARM"
    assert stand_ins.sim.tokens.requests["managed_identity"] > managed_identity_tokens
    # Through the Function App's own token endpoint, as the identity the Bicep attaches.
    assert set(stand_ins.sim.tokens.managed_identities) == {IDENTITY_CLIENT_ID}

    activity = json.dumps(load("bot/message_channel.json")).encode()
    bot = func.HttpRequest("POST", "https://func.example/api/messages", headers={}, body=activity)
    assert call(functions["messages"], req=bot).status_code == 401, "no Bot Framework token"


@pytest.mark.parametrize("broken", ["tables", "servicebus", "identity"])
def test_a_dependency_out_of_reach_is_a_503_with_a_reason(stand_ins, start_app, broken) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    address = {
        "tables": f"https://{closed}/{ACCOUNT}/",
        "servicebus": f"sb://{closed}",
        "identity": f"https://{closed}",
    }[broken]
    functions = start_app(azure_settings(stand_ins, **{broken: address}))  # starts regardless
    reply = call(functions["alerts"], req=alert_request(common_alert()))
    assert reply.status_code == 503
    assert json.loads(reply.get_body())["error"], "the answer says why"


def test_the_deployed_secret_guards_the_alert_route(stand_ins, start_app) -> None:
    functions = start_app(azure_settings(stand_ins))
    reply = call(functions["alerts"], req=alert_request(common_alert(), secret="wrong"))
    assert reply.status_code == 401
