"""A fake Bot Connector (Bot Framework REST v3) on 127.0.0.1 that records every call.

Answers like Teams: a new channel thread gets `<channel>;messageid=<ts>` plus `activityId`,
messages get timestamp-like ids. `fail_next()` makes the next call(s) answer 403/404/413/429/5xx
(with Retry-After), and `/botframework.com/oauth2/v2.0/token` issues the bearer tokens the
connector then requires, so the bot's outgoing authentication is exercised too. Every Adaptive
Card it is sent must fit the official 1.5 schema: one that does not is refused (400), and the
test that sent it fails when the connector stops; so does one whose visible text names a
Python exception or cuts an ARM id short (tests.botkit.visible).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tests.botkit.cards import card_problems, cards_in
from tests.botkit.servers import serve
from tests.botkit.visible import text_problems

TOKEN_PATH = "/botframework.com/oauth2/v2.0/token"

_ERROR_CODES = {
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "ServiceError",
    503: "ServiceUnavailable",
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made: `kind` is create, send, reply, update or delete."""

    kind: str
    method: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    authorization: str | None
    status: int


@dataclass(frozen=True, slots=True)
class _Fault:
    status: int
    retry_after: str | None
    code: str | None


class FakeConnector:
    def __init__(self) -> None:
        self.url = ""
        self.calls: list[Call] = []
        self.tokens: set[str] = set()
        self._faults: deque[_Fault] = deque()
        self.card_problems: list[str] = []
        self.text_problems: list[str] = []
        self._ids = itertools.count(int(time.time() * 1000))

    def fail_next(
        self, status: int, times: int = 1, retry_after: str | None = None, code: str | None = None
    ) -> None:
        """The next `times` connector calls answer `status` (and Retry-After if given)."""
        self._faults.extend([_Fault(status, retry_after, code)] * times)

    def check_card(self, card: Any) -> list[str]:
        """The card's faults against the Adaptive Cards 1.5 schema, remembered for the end;
        and what no person may read on it (tests.botkit.visible), remembered too."""
        problems = card_problems(card)
        self.card_problems += problems
        self.text_problems += text_problems(card)
        return problems

    def of_kind(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind and c.status < 400]

    async def token_provider(self) -> str:
        """The bot's outgoing-token callable: client credentials against this fake's endpoint."""
        form = {
            "grant_type": "client_credentials",
            "client_id": "test-bot",
            "scope": "https://api.botframework.com/.default",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url + TOKEN_PATH, data=form) as resp,
        ):
            resp.raise_for_status()
            return (await resp.json())["access_token"]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post("/v3/conversations", self._handler("create"))
        activities = "/v3/conversations/{conversation}/activities"
        app.router.add_post(activities, self._handler("send"))
        app.router.add_post(activities + "/{activity}", self._handler("reply"))
        app.router.add_put(activities + "/{activity}", self._handler("update"))
        app.router.add_delete(activities + "/{activity}", self._handler("delete"))
        return app

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = f"fake-bf-token-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": token}
        )

    def _handler(self, kind: str):
        async def handle(request: web.Request) -> web.Response:
            raw = await request.text()
            body = json.loads(raw) if raw else None
            status, response = self._answer(kind, request, body)
            self.calls.append(
                Call(
                    kind=kind,
                    method=request.method,
                    conversation_id=request.match_info.get("conversation"),
                    activity_id=request.match_info.get("activity"),
                    body=body,
                    authorization=request.headers.get("Authorization"),
                    status=status,
                )
            )
            return response

        return handle

    def _answer(self, kind: str, request: web.Request, body: Any) -> tuple[int, web.Response]:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return 401, _error(401, "BotNotRegistered", "missing or unknown bearer token")
        if self._faults:
            fault = self._faults.popleft()
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            code = fault.code or _ERROR_CODES.get(fault.status, "ServiceError")
            return fault.status, _error(fault.status, code, "injected fault", headers)
        problems = [problem for card in cards_in(body) for problem in self.check_card(card)]
        if problems:  # as Teams refuses a card it cannot render
            return 400, _error(400, "BadArgument", f"invalid Adaptive Card: {problems[0]}")
        new_id = str(next(self._ids))
        if kind == "create":
            channel = body["channelData"]["channel"]["id"]
            thread = f"{channel};messageid={new_id}"
            return 201, web.json_response({"id": thread, "activityId": new_id}, status=201)
        if kind == "update":
            return 200, web.json_response({"id": request.match_info["activity"]})
        if kind == "delete":
            return 200, web.Response(status=200)
        return 201, web.json_response({"id": new_id}, status=201)


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


@asynccontextmanager
async def running_connector() -> AsyncIterator[FakeConnector]:
    connector = FakeConnector()
    async with serve(connector.app()) as url:
        connector.url = url
        yield connector
    assert not connector.card_problems, f"cards the schema refuses: {connector.card_problems}"
    assert not connector.text_problems, f"what no person may read: {connector.text_problems}"
