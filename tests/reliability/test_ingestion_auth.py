"""With ALERTS_SHARED_SECRET set, no ingestion route takes a request without it: the action
group webhook, the Event Grid webhook (deliveries and both handshakes) and the Event Grid
trigger endpoint the local host mounts, each sent every payload kind it reads under many
shapes of a missing or wrong secret. None is accepted, none stores anything; with the secret,
in the header or the URL, each route works (so the refusals are the secret's doing)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.engine.signals import load
from tests.localhost.process import demo_rp_limit_alert
from tests.reliability.served import Server, running_server
from tests.reliability.summary import record

SECRET = "ingest-" + secrets.token_urlsafe(24)
ALERTS, EVENTGRID = "/api/alerts", "/api/eventgrid"
TRIGGER = "/runtime/webhooks/eventgrid"
JSON = "application/json"


def _event(alert: dict[str, Any]) -> dict[str, Any]:
    return {"id": secrets.token_hex(8), "eventType": "Contoso.Remediation.Alert",
            "subject": "alerts", "dataVersion": "1", "eventTime": "2025-06-02T22:14:37Z",
            "data": alert}  # fmt: skip


def _cloudevent(alert: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "type": "Contoso.Remediation.Alert", "source": "/contoso",
            "id": secrets.token_hex(8), "datacontenttype": JSON, "data": alert}  # fmt: skip


# Every payload kind each route reads: (method, body, content type, extra headers)
Send = tuple[str, bytes, str | None, dict[str, str]]


def _sends(route: str, vm: str) -> list[Send]:
    alert = demo_rp_limit_alert(vm)
    if route == ALERTS:
        return [("POST", json.dumps(alert).encode(), JSON, {})]
    if route == TRIGGER:
        return [("POST", json.dumps([_event(alert)]).encode(), JSON, {})]
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    return [
        ("POST", json.dumps([_event(alert)]).encode(), JSON, {}),
        ("POST", json.dumps([_event(alert), _event(alert)]).encode(), JSON, {}),
        ("POST", json.dumps(_cloudevent(alert)).encode(), "application/cloudevents+json", {}),
        ("POST", json.dumps([_cloudevent(alert)]).encode(),
         "application/cloudevents-batch+json", {}),
        ("POST", json.dumps(load("eventgrid_subscription_validation.json")).encode(), JSON, {}),
        ("OPTIONS", b"", None, origin),
    ]  # fmt: skip


# Shapes of a request without the secret: (query parameters, headers)
SHAPES: dict[str, tuple[dict[str, str | bytes], dict[str, str]]] = {
    "none": ({}, {}),
    "wrong header": ({}, {"x-alert-secret": "wrong-" + SECRET}),
    "wrong query": ({"secret": SECRET[::-1]}, {}),
    "empty query": ({"secret": ""}, {}),
    "empty header": ({}, {"x-alert-secret": ""}),
    "prefix": ({}, {"x-alert-secret": SECRET[:-1]}),
    "longer": ({"secret": SECRET + "0"}, {}),
    "other case": ({"secret": SECRET.upper()}, {}),
    "bearer": ({}, {"Authorization": f"Bearer {SECRET}"}),
    "function key": ({"code": SECRET}, {}),
    "other header": ({}, {"x-secret": SECRET, "x-functions-key": SECRET}),
    "other parameter": ({"secrets": SECRET, "Secret": SECRET}, {}),
    "undecodable": ({"secret": b"\xed\xb3\xbf"}, {}),  # %ED%B3%BF: no valid UTF-8
}
ROUTES = (ALERTS, EVENTGRID, TRIGGER)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("auth"), {"ALERTS_SHARED_SECRET": SECRET}) as up:
        yield up


def _post(server: Server, route: str, send: Send, params: dict, headers: dict):
    method, body, content_type, extra = send
    if route == TRIGGER:
        params = {"functionName": "eventgrid_trigger", **params}
    sent = {**extra, **headers, **({"Content-Type": content_type} if content_type else {})}
    return requests.request(method, server.base + route, params=params, data=body,
                            headers=sent, timeout=10)  # fmt: skip


def _stored(server: Server) -> int:
    counts = server.store.counts()
    return counts["signals"] + counts["incidents"] + counts["runs"]


@pytest.mark.parametrize("route", ROUTES)
def test_no_route_accepts_a_request_without_the_secret(server, route):
    before = _stored(server)
    answers = [
        (shape, _post(server, route, send, params, headers))
        for shape, (params, headers) in SHAPES.items()
        for send in _sends(route, "erp-app-05")
    ]
    stored = _stored(server) - before
    accepted = [(shape, a.status_code) for shape, a in answers if a.status_code != 401]
    record("ingestion auth", requests=len(answers), max_shapes=len(SHAPES), accepted=len(accepted),
           stored=stored, **{"to_" + route: len(answers)})  # fmt: skip
    assert accepted == [] and stored == 0
    for _, answer in answers:
        assert "secret" in answer.json()["error"] and SECRET not in answer.text


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("where", ["header", "query"])
def test_with_the_secret_every_route_and_handshake_works(server, route, where):
    vm = f"vm-{where}-{ROUTES.index(route)}"  # a fresh alert: not a duplicate of another
    params, headers = ({}, {"x-alert-secret": SECRET}) if where == "header" else (
        {"secret": SECRET}, {})  # fmt: skip
    before = server.store.counts()["signals"]
    for send in _sends(route, vm):
        answer = _post(server, route, send, params, headers)
        assert answer.status_code in (200, 202), (send[0], answer.status_code, answer.text)
        if b"SubscriptionValidationEvent" in send[1]:
            code = load("eventgrid_subscription_validation.json")[0]["data"]["validationCode"]
            assert answer.json() == {"validationResponse": code}
        if send[0] == "OPTIONS":
            assert answer.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert server.store.counts()["signals"] > before, "the alert was recorded"


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "text/plain;charset=UTF-8",
                     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)  # fmt: skip
def test_a_body_a_foreign_page_could_post_is_refused_even_with_the_secret(
    server, route, content_type
):
    before = _stored(server)
    method, body, _, extra = _sends(route, "erp-app-09")[0]
    answer = _post(server, route, (method, body, content_type, extra), {"secret": SECRET}, {})
    assert answer.status_code == 415, answer.text
    assert "content type" in answer.json()["error"]
    assert _stored(server) == before
