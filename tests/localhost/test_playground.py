"""`serve --simulate --playground` as a user starts it: the Agents Playground from node_modules,
bound to loopback, its activities signed by the dev-only bridge, and production unchanged."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
import requests

from devtools.localhost.playground import launcher
from devtools.localhost.playground.launcher import Playground, PlaygroundError
from devtools.localhost.serve import DEV_USER
from devtools.simulator.identity import TEST_TENANT
from tests.botkit.activities import sample
from tests.localhost.process import Served, listening_addresses, serve_with_playground

BRIDGE = "/dev/playground/api/messages"


@pytest.fixture(scope="module")
def with_playground(tmp_path_factory) -> tuple[Served, str]:
    with serve_with_playground(tmp_path_factory.mktemp("playground")) as running:
        yield running


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_the_playground_and_the_host_listen_on_loopback_only(with_playground):
    served, playground = with_playground
    assert listening_addresses(_port(playground)) == {"127.0.0.1"}
    assert listening_addresses(_port(served.base)) == {"127.0.0.1"}
    assert requests.get(playground + "/", timeout=10).ok  # its web client


def test_the_bridge_relays_the_playground_chat_to_the_bot_and_back(with_playground):
    served, playground = with_playground
    message = sample("playground_message_personal", playground + "/_connector", text="help")
    relayed = requests.post(served.base + BRIDGE, json=message, timeout=30)
    assert relayed.status_code == 200, relayed.text  # the bot's reply reached the Playground


def test_api_messages_still_refuses_what_the_playground_sends_unsigned(with_playground):
    served, playground = with_playground
    click = sample("playground_invoke_action_execute", playground + "/_connector")
    direct = requests.post(served.base + "/api/messages", json=click, timeout=10)
    assert direct.status_code == 401
    assert direct.json()["reason"] == "missing Authorization header"


def test_the_bridge_signs_nothing_for_another_connector(with_playground):
    served, _ = with_playground
    teams = sample("playground_invoke_action_execute", "https://smba.trafficmanager.net/emea/")
    refused = requests.post(served.base + BRIDGE, json=teams, timeout=10)
    assert refused.status_code == 403


def test_without_the_playground_there_is_no_bridge(served_process):
    message = sample("playground_message_personal", "http://127.0.0.1:56150/_connector")
    assert requests.post(served_process.base + BRIDGE, json=message, timeout=10).status_code == 404


def test_the_playground_needs_the_simulator(monkeypatch, capsys):
    from remediation.cli import main

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # serve sets up its own logs
    monkeypatch.setattr(root, "level", root.level)
    assert main(["serve", "--playground", "--port", "0"]) == 2
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert "--playground needs --simulate" in line["message"]


def test_a_missing_playground_package_says_how_to_install_it(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(launcher, "CLI", tmp_path / "cli.js")
    client = Playground(0, "http://127.0.0.1:9/api/messages", {}, tmp_path)
    with pytest.raises(PlaygroundError, match="npm ci"):
        asyncio.run(client.start())


def test_the_playground_user_is_the_dev_approver_in_the_simulated_tenant(with_playground):
    _, playground = with_playground
    config = requests.get(playground + "/_internal/v1/config", timeout=10).json()["config"]
    assert config["currentUser"]["aadObjectId"] == DEV_USER["object_id"]
    assert (config["currentUser"]["name"], config["tenantId"]) == (DEV_USER["name"], TEST_TENANT)
