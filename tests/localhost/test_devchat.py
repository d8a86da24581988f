"""The dev channel of `serve --simulate` over HTTP: it plays Teams for the real bot."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from devtools.localhost.devchat.app import is_loopback, local_only
from tests.localhost.process import demo_french_alert, demo_rp_limit_alert


def _chat(base: str, text: str) -> requests.Response:
    return requests.post(base + "/dev/api/chat", json={"text": text}, timeout=30)


def _card_text(activity: dict) -> str:
    return json.dumps(activity["attachments"][0]["content"], ensure_ascii=False)


def test_the_bot_is_installed_in_the_dev_channel_through_api_messages(served_process):
    snapshot = requests.get(served_process.base + "/dev/api/threads", timeout=10).json()
    assert snapshot["installed"] is True
    assert snapshot["channel"]["name"] == "remediation"
    # the bot's own handler stored the channel it was installed in
    assert "bot installed in channel conversation" in served_process.log_text()


def test_chat_sends_a_signed_message_and_returns_the_bots_reply(served_process):
    answer = _chat(served_process.base, "help")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["message"]["from"]["name"] == "Dev Operator"
    [reply] = body["activities"]
    assert reply["fromBot"] and reply["replyToId"] == body["message"]["id"]
    assert "What I can do" in _card_text(reply)


def test_an_incident_gets_a_thread_and_a_click_reaches_the_bot(served_process):
    base = served_process.base
    posted = requests.post(base + "/api/alerts", json=demo_rp_limit_alert("erp-app-01"), timeout=10)
    assert posted.status_code == 202
    served_process.wait_processed()
    snapshot = requests.get(base + "/dev/api/threads", timeout=10).json()
    [thread] = [t for t in snapshot["threads"] if "erp-app-01" in _card_text(t["activities"][0])]
    root = thread["activities"][0]
    assert thread["id"].endswith(f";messageid={root['id']}") and root["fromBot"]
    # A read-only refresh: any verb other than a decision answers the current card.
    clicked = requests.post(
        base + "/dev/api/invoke",
        json={"activityId": root["id"], "verb": "refresh", "data": {}},
        timeout=30,
    )
    assert clicked.status_code == 200, clicked.text
    assert clicked.json()["type"] == "application/vnd.microsoft.card.adaptive"


def test_events_stream_pushes_new_activities(served_process):
    base = served_process.base
    seen: list[dict] = []
    opened = threading.Event()

    def listen() -> None:
        with requests.get(base + "/dev/api/events", stream=True, timeout=30) as stream:
            opened.set()
            for line in stream.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    if any(a["fromBot"] for a in seen):
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    assert _chat(base, "status").status_code == 200
    listener.join(20)
    assert [a["fromBot"] for a in seen] == [False, True]
    assert seen[0]["text"] == "status"


def test_page_api_refuses_bad_requests_clearly(served_process):
    base = served_process.base
    form = requests.post(base + "/dev/api/chat", data={"text": "hi"}, timeout=10)
    assert form.status_code == 415  # only JSON: a form on another site cannot post here
    empty = requests.post(base + "/dev/api/chat", json={"text": "  "}, timeout=10)
    assert empty.status_code == 400 and "text" in empty.json()["reason"]
    unknown = requests.post(
        base + "/dev/api/invoke", json={"activityId": "404", "verb": "approve"}, timeout=10
    )
    assert unknown.status_code == 404


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("route", ["/dev/api/chat", "/dev/api/invoke"])
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a":' * 5000 + b"0" + b"}" * 5000, "nested more than"),
        (b'{"text": "' + b"[" * 300 + b'", "data": ' + b"[" * 300 + b"]" * 300 + b"}", "nested"),
        (b'{"text": "explain evil\\ud800vm", "activityId": "1", "verb": "x"}', "surrogate"),
    ],
)
def test_page_api_refuses_deep_or_unencodable_json_with_400(served_process, route, body, reason):
    answer = requests.post(served_process.base + route, data=body, headers=JSON, timeout=10)
    assert answer.status_code == 400, answer.text
    assert reason in answer.json()["reason"]


def test_a_click_with_an_oversize_approval_id_is_a_400_not_a_bot_failure(served_process):
    base = served_process.base
    assert requests.post(base + "/api/alerts", json=demo_rp_limit_alert("erp-app-02"),
                         timeout=10).status_code == 202  # fmt: skip
    served_process.wait_processed()
    snapshot = requests.get(base + "/dev/api/threads", timeout=10).json()
    [thread] = [t for t in snapshot["threads"] if "erp-app-02" in _card_text(t["activities"][0])]
    for verb in ("approve", "reject", "refresh"):
        click = {"activityId": thread["rootId"], "verb": verb,
                 "data": {"approvalId": "apr-" + "x" * 5000}}  # fmt: skip
        answer = requests.post(base + "/dev/api/invoke", json=click, timeout=30)
        assert answer.status_code == 400, answer.text
        assert "5004 characters" in answer.json()["reason"]


def test_connector_accepts_only_tokens_the_bot_could_obtain(served_process):
    url = served_process.base + "/dev/connector/v3/conversations"
    params = {"isGroup": True, "channelData": {"channel": {"id": "19:x"}}, "activity": {}}
    for auth in (None, "Bearer not-issued-by-the-token-endpoint"):
        headers = {"Authorization": auth} if auth else {}
        refused = requests.post(url, json=params, headers=headers, timeout=10)
        assert refused.status_code == 401


def test_connector_answers_deep_json_from_a_signed_in_client_with_400(served_process):
    from devtools.simulator.identity import TEST_CLIENT, TEST_TENANT

    sim = requests.get(served_process.base + "/dev/api/simulator", timeout=10).json()
    form = {"grant_type": "client_credentials", "client_id": TEST_CLIENT, "client_secret": "x",
            "scope": "https://api.botframework.com/.default"}  # fmt: skip
    token = requests.post(f"{sim['base_url']}/{TEST_TENANT}/oauth2/v2.0/token", data=form,
                          verify=sim["ca_path"], timeout=10).json()["access_token"]  # fmt: skip
    url = served_process.base + "/dev/connector/v3/conversations"
    answer = requests.post(url, data=b'{"a":' * 5000 + b"0" + b"}" * 5000, timeout=10,
                           headers={"Authorization": f"Bearer {token}", **JSON})  # fmt: skip
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadArgument"


def test_page_and_vendored_renderer_are_served(served_process):
    base = served_process.base
    page = requests.get(base + "/dev/", timeout=10)
    assert page.status_code == 200 and "vendor/adaptivecards.min.js" in page.text
    for path in ("/dev/vendor/adaptivecards.min.js", "/dev/static/app.js", "/dev/static/app.css"):
        assert requests.get(base + path, timeout=10).status_code == 200, path
    assert requests.get(base + "/dev/vendor/other.js", timeout=10).status_code == 404


def test_simulator_is_exposed_for_tests(served_process):
    sim = requests.get(served_process.base + "/dev/api/simulator", timeout=10).json()
    assert Path(sim["ca_path"]).is_file()
    state = requests.get(sim["base_url"] + "/_sim/state", verify=sim["ca_path"], timeout=10)
    assert state.status_code == 200 and "locks" in state.json()


@pytest.mark.parametrize(
    ("remote", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("10.1.2.3", False),
     ("192.168.0.7", False), (None, False), ("not-an-ip", False)],
)  # fmt: skip
def test_loopback_detection(remote, loopback):
    assert is_loopback(remote) is loopback


class _Transport:
    def __init__(self, peer: str) -> None:
        self._peer = peer

    def get_extra_info(self, name: str, default=None):
        return (self._peer, 50000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


async def _middleware_answer(peer: str, headers: dict[str, str]) -> int:
    request = make_mocked_request("GET", "/dev/", headers=headers, transport=_Transport(peer))

    async def page(_: web.Request) -> web.Response:
        return web.Response(text="page")

    return (await local_only(7071)(request, page)).status


LOCAL = {"Host": "127.0.0.1:7071"}


@pytest.mark.parametrize(
    ("peer", "headers", "status"),
    [
        ("127.0.0.1", LOCAL, 200),
        ("::1", {"Host": "[::1]:7071"}, 200),
        ("127.0.0.1", {"Host": "LocalHost:7071", "Origin": "http://localhost:7071"}, 200),
        ("10.0.0.5", LOCAL, 403),  # off loopback
        ("127.0.0.1", {}, 403),  # no Host
        ("127.0.0.1", {"Host": "rebind.example:7071"}, 403),  # DNS rebinding
        ("127.0.0.1", {"Host": "127.0.0.1"}, 403),  # another port (80)
        ("127.0.0.1", {"Host": "127.0.0.1:8080"}, 403),
        ("127.0.0.1", {"Host": "127.0.0.2:7071"}, 403),
        ("127.0.0.1", LOCAL | {"Origin": "http://evil.example"}, 403),  # a cross-site POST
        ("127.0.0.1", LOCAL | {"Origin": "null"}, 403),  # a sandboxed or file:// page
        ("127.0.0.1", LOCAL | {"Origin": "http://127.0.0.1:8080"}, 403),  # another local app
        ("127.0.0.1", LOCAL | {"Origin": "https://127.0.0.1:7071"}, 403),
    ],
)
def test_only_the_local_users_page_and_tools_reach_the_dev_api(peer, headers, status):
    assert asyncio.run(_middleware_answer(peer, headers)) == status


@pytest.mark.parametrize(
    "headers",
    [{"Host": "rebind.example:%d"}, {"Origin": "http://rebind.example:%d"}, {"Origin": "null"}],
)
@pytest.mark.parametrize("path", ["/dev/", "/dev/api/threads"])
def test_a_rebound_or_foreign_page_gets_403_from_the_served_host(served_process, headers, path):
    port = int(served_process.base.rsplit(":", 1)[1])
    sent = {name: value.replace("%d", str(port)) for name, value in headers.items()}
    answer = requests.get(served_process.base + path, headers=sent, timeout=10)
    assert answer.status_code == 403 and answer.json()["reason"]
    posted = requests.post(served_process.base + "/dev/api/chat", json={"text": "status"},
                           headers=sent, timeout=10)  # fmt: skip
    assert posted.status_code == 403


def test_a_click_on_one_thread_naming_another_incident_decides_nothing(served_process):
    """The page clicks a card by its message, as Teams does: a button naming another
    incident's approval is refused on the clicked card, in its language."""
    base = served_process.base
    for alert in (demo_rp_limit_alert("erp-app-02"), demo_french_alert("erp-app-04")):
        assert requests.post(base + "/api/alerts", json=alert, timeout=10).status_code == 202
    served_process.wait_processed()

    def root(vm: str) -> dict:
        threads = requests.get(base + "/dev/api/threads", timeout=10).json()["threads"]
        [card] = [t["activities"][0] for t in threads if vm in _card_text(t["activities"][0])]
        return card

    rp_card, french_card = root("erp-app-02"), root("erp-app-04")
    [approval_id] = set(re.findall(r'"approvalId": "(apr-[^"]+)"', _card_text(rp_card)))
    click = {"activityId": french_card["id"], "verb": "approve",
             "data": {"approvalId": approval_id, "choice": "restore-lock"}}  # fmt: skip
    answer = requests.post(base + "/dev/api/invoke", json=click, timeout=30)
    assert answer.status_code == 200, answer.text
    shown = json.dumps(answer.json()["value"], ensure_ascii=False)
    assert "Les boutons de cette carte n'agissent que sur son propre incident" in shown
    assert "erp-app-04" in shown and "erp-app-02" not in shown and approval_id not in shown
    assert root("erp-app-02")["version"] == rp_card["version"]  # its card was not edited
    assert "made on the card of" in served_process.log_text()
