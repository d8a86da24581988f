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
import uuid
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest

from devtools.simulator.identity import TEST_TENANT
from remediation.settings import SETTINGS
from tests.engine.signals import load
from tests.function_app_fixture import call
from tests.infra.bicep_settings import app_setting_names, deployed_settings
from tests.store.azurite import ACCOUNT, free_port

from .conftest import StandIns

IDENTITY_CLIENT_ID = "3f0e5c1a-7b2d-4e8f-9a6c-1d2e3f4a5b6c"
WORKSPACE_CUSTOMER_ID = "5c4b3a29-1807-4f6e-8d5c-4b3a29180706"
NAMESPACE = "sb-standin.servicebus.windows.net"
SHARED_SECRET = "alerts-secret-for-the-stand-ins"
# Settings that only say where a stand-in listens (declared deployed=False in the code).
STAND_IN_ADDRESSES = ("ARM_ENDPOINT", "ARM_CA_BUNDLE", "SERVICEBUS_CUSTOM_ENDPOINT")
# Where msal finds the managed identity's token endpoint; App Service's own variables go.
PLATFORM_SET = "AZURE_POD_IDENTITY_AUTHORITY_HOST"
PLATFORM_CLEARED = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET")


def azure_settings(stand_ins: StandIns, **overrides: str) -> dict[str, str]:
    """The deployed app settings for this run, plus the stand-ins' addresses."""
    sim = stand_ins.sim
    parameters = {
        "pollVaultIds": ",".join(v.id for v in sim.estate.vaults.values()),
        "graphEndpoint": sim.base_url,
        "storeTablePrefix": "t" + uuid.uuid4().hex[:12],  # a fresh store for each test
        "alertsSharedSecret": SHARED_SECRET,
    }
    outputs = {
        "storage.tableEndpoint": overrides.pop("tables", stand_ins.tables_endpoint),
        "storage.name": ACCOUNT,
        "serviceBus.fullyQualifiedNamespace": NAMESPACE,
        "serviceBus.queueName": "remediation",
        "identity.clientId": IDENTITY_CLIENT_ID,
        "workspaceReader.customerId": WORKSPACE_CUSTOMER_ID,
        "monitoring.appInsightsConnectionString": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint=https://127.0.0.1:{free_port()}/"
        ),
    }
    deployed = deployed_settings(parameters, outputs, TEST_TENANT)
    local = {
        "ARM_ENDPOINT": sim.base_url,
        "ARM_CA_BUNDLE": stand_ins.ca_bundle,
        "SERVICEBUS_CUSTOM_ENDPOINT": overrides.pop(
            "servicebus", f"sb://{stand_ins.servicebus.namespace}"
        ),
        PLATFORM_SET: overrides.pop("identity", sim.base_url),
    }
    assert not overrides, f"unknown overrides {overrides}"
    return deployed | local


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
    assert set(settings) - set(app_setting_names()) == {*STAND_IN_ADDRESSES, PLATFORM_SET}


def alert_request(body: bytes, secret: str = SHARED_SECRET) -> func.HttpRequest:
    """An action-group call as the deployed URL makes it (the key itself is the host's)."""
    return func.HttpRequest(
        "POST",
        "https://func.example/api/alerts",
        headers={"Content-Type": "application/json"},
        params={"code": "checked-by-the-functions-host", "secret": secret},
        body=body,
    )


def common_alert() -> bytes:
    return json.dumps(load("common_alert_backup_failure_rp_limit.json")).encode()


def bus_message(record: dict[str, Any]) -> ServiceBusMessage:
    """What the Service Bus trigger receives for a message the stand-in accepted."""
    return ServiceBusMessage(
        body=record["body"].encode(), message_id=record["message_id"],
        session_id=record["session_id"], content_type="application/json",
        application_properties={}, user_properties={},
    )  # fmt: skip


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
        "POST", "https://func.example/api/eventgrid", headers={},
        params={"code": "checked-by-the-functions-host"}, body=json.dumps(handshake).encode(),
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
