"""No secret or token in what a realistic run leaves behind: the server's log, the cards and
replies the Teams channel received.

The run: alerts with and without the webhook secret (header and ?secret=), forged and garbage
Bot Framework tokens, an approved fix against the simulator (the app signs in with its client
secret and calls ARM with bearer tokens; the bot obtains Bot Connector tokens), then chat.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import requests

from devtools.localhost.devchat.app import DEV_BOT_APP_ID
from devtools.localhost.devchat.botframework import BotFrameworkIssuer
from devtools.localhost.serve import simulated_environment
from tests.localhost.process import demo_rp_limit_alert
from tests.reliability.served import Server, action_data, eventually, running_server
from tests.reliability.summary import record

ALERT_SECRET = "alert-" + secrets.token_urlsafe(24)
TOKEN_SHAPES = (
    re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}"),  # any JWT (Bot Framework, Entra)
    re.compile(r"(?i)bearer\s+[\w.~+/=-]{16,}"),  # an Authorization header value
    re.compile(r"(?i)(client_secret|access_token)\W{1,4}[\w.~+/=-]{8,}"),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    env = {"ALERTS_SHARED_SECRET": ALERT_SECRET}
    with running_server(tmp_path_factory.mktemp("secrets"), env) as running:
        yield running


def _sim_client_secret() -> str:
    """The client secret `serve --simulate` configures for the app's sign-in."""
    sim = SimpleNamespace(base_url="", ca_path="", estate=SimpleNamespace(vaults={}))
    return simulated_environment(sim)["AZURE_CLIENT_SECRET"]


def _post_alert(server: Server, vm: str, **options) -> int:
    url = server.base + "/api/alerts"
    return requests.post(url, json=demo_rp_limit_alert(vm), timeout=10, **options).status_code


def _forged_authorizations(server: Server) -> list[str]:
    service_url = server.base + "/dev/connector/"
    forged = BotFrameworkIssuer(DEV_BOT_APP_ID).header(service_url)  # a key the bot never saw
    return [forged, "Bearer " + secrets.token_urlsafe(32)]


def test_a_realistic_run_leaks_no_secret_or_token(server):
    sent = []
    assert _post_alert(server, "erp-app-01") == 401
    wrong = {"x-alert-secret": "wrong-" + secrets.token_urlsafe(8)}
    assert _post_alert(server, "erp-app-01", headers=wrong) == 401
    assert _post_alert(server, "erp-app-01", headers={"x-alert-secret": ALERT_SECRET}) == 202
    assert _post_alert(server, "erp-app-02", params={"secret": ALERT_SECRET}) == 202
    sent.append(wrong["x-alert-secret"])

    activity = {"type": "message", "text": "status", "channelId": "msteams",
                "serviceUrl": server.base + "/dev/connector/", "conversation": {"id": "c"},
                "recipient": {"id": "28:bot"}, "from": {"id": "29:someone"}}  # fmt: skip
    for authorization in _forged_authorizations(server):
        headers = {"Authorization": authorization}
        answer = requests.post(server.base + "/api/messages", json=activity, headers=headers,
                               timeout=10)  # fmt: skip
        assert answer.status_code == 401
        sent.append(authorization.split(" ", 1)[1])

    server.served.wait_processed()
    [thread] = server.threads()
    root = thread["activities"][0]
    assert server.click(root, "approve", action_data(root["attachments"], "approve")) == 200
    assert eventually(lambda: any(r["state"] == "succeeded" for r in _runs(server)), timeout=30)
    replies = [server.chat(text) for text in ("status", "why did VM erp-app-01 fail", "help")]

    log = server.served.log_text()
    posted = [a for thread in server.threads() for a in thread["activities"]]
    seen = [("log", log)] + [("channel", _text(a)) for a in posted]
    seen += [("chat", _text(reply)) for reply in replies]
    channel = _text(posted)
    assert "erp-app-01" in channel and "(fixed)" in channel  # a run did happen
    known = (ALERT_SECRET, _sim_client_secret(), *sent)
    leaks = [
        f"a configured secret or sent token is in the {where}"
        for where, text in seen
        for value in known
        if value in text
    ]
    leaks += [
        f"a token is in the {where}: {found.group()[:24]}..."
        for where, text in seen
        for shape in TOKEN_SHAPES
        if (found := shape.search(text))
    ]
    record(
        "secrets",
        artefacts=len(seen),
        characters=sum(len(text) for _, text in seen),
        known_values=len(known),
        token_shapes=len(TOKEN_SHAPES),
        leaks=len(leaks),
    )
    assert leaks == []


def _text(artefact: object) -> str:
    return json.dumps(artefact, ensure_ascii=False)


def _runs(server: Server) -> list[dict]:
    return server.store.documents("runs")
