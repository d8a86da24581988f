"""The dev chat page and its channel, mounted at /dev by `serve --simulate` (loopback only).

It plays Teams for the real bot: a Bot Framework token issuer (BOT_OPENID_METADATA_URL points
here), a Bot Connector that keeps the dev team's threads and chat, the bot installed in the
dev channel at start, and the page API that turns the page's messages and clicks into signed
activities on POST /api/messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from devtools.localhost.devchat.botframework import BotFrameworkIssuer
from devtools.localhost.devchat.channel import DevChannel, UnknownConversation
from devtools.localhost.devchat.connector import DevConnector, TokenCheck
from devtools.localhost.devchat.teams import TeamsSide
from remediation.jsonbody import BadJson, loads

log = logging.getLogger("devtools.localhost.devchat")

PREFIX = "/dev"
DEV_BOT_APP_ID = "7d0c5e1a-2b3c-4d5e-8f90-00000000b0d7"
TEAM = {"id": "19:dev-team@thread.tacv2", "name": "Backup Ops"}
CHANNEL = {"id": "19:dev-remediation@thread.tacv2", "name": "remediation"}
CHAT_ID = "a:1dev-operator-personal-chat"
STATIC = Path(__file__).resolve().parent / "static"
VENDOR = Path(__file__).resolve().parents[3] / "node_modules" / "adaptivecards" / "dist"
VENDOR_FILES = ("adaptivecards.min.js", "adaptivecards.css")
INVOKE_ERROR = "application/vnd.microsoft.error"  # a Universal Actions error answer
KEEPALIVE_SECONDS = 15.0
INSTALL_ATTEMPTS = 100


def is_loopback(remote: str | None) -> bool:
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


Middleware = Callable[
    [web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]],
    Awaitable[web.StreamResponse],
]


def local_only(port: int) -> Middleware:
    """Refuse what is not the local user's browser or tools on this host's `port`: a client
    off loopback, a Host header naming anything but 127.0.0.1, localhost or [::1] with this
    port (a DNS-rebinding page reaches loopback under its own name), or an Origin other than
    this page's own (a page on another site posting here; `null` included)."""
    names = ("127.0.0.1", "localhost", "[::1]")
    hosts = {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())
    origins = {f"http://{host}" for host in hosts}

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        reason = None
        origin = request.headers.get("Origin")
        if not is_loopback(request.remote):
            reason = "the dev chat page answers loopback clients only"
        elif request.headers.get("Host", "").lower() not in hosts:
            reason = f"the Host header must be one of {', '.join(sorted(hosts))}"
        elif origin is not None and origin.lower() not in origins:
            reason = "requests from other origins are refused"
        if reason is not None:
            log.warning("dev page request refused: %s", reason)
            return web.json_response({"error": "Forbidden", "reason": reason}, status=403)
        return await handler(request)

    return middleware


class DevChat:
    """Everything under /dev; `environment()` holds the bot settings that point at it."""

    def __init__(
        self,
        base_url: str,
        *,
        tenant_id: str,
        user: dict[str, str],
        token_check: TokenCheck,
        simulator: dict[str, str],
        journal: Path | None = None,
    ) -> None:
        """`journal`: where the dev channel keeps its threads across restarts."""
        self.issuer = BotFrameworkIssuer(DEV_BOT_APP_ID)
        self.issuer.url = base_url + PREFIX + "/botframework"
        self.tenant_id = tenant_id
        self.channel = DevChannel(TEAM, CHANNEL, CHAT_ID, journal)
        self._connector = DevConnector(self.channel, token_check)
        self.teams = TeamsSide(
            self.issuer,
            self.channel,
            service_url=base_url + PREFIX + "/connector/",
            messages_url=base_url + "/api/messages",
            tenant_id=tenant_id,
            user=user,
        )
        self._simulator = simulator
        self._port = URL(base_url).port or 80
        self._session: aiohttp.ClientSession | None = None
        self._install_task: asyncio.Task | None = None

    def environment(self) -> dict[str, str]:
        """Bot settings for the app: a single-tenant bot whose tokens this issuer signs."""
        return {
            "BOT_APP_ID": self.issuer.app_id,
            "BOT_APP_TYPE": "SingleTenant",
            "BOT_TENANT_ID": self.tenant_id,
            "BOT_OPENID_METADATA_URL": self.issuer.metadata_url,
        }

    def mount(
        self, web_app: web.Application, subapps: Mapping[str, web.Application] | None = None
    ) -> None:
        """Everything under /dev, with `subapps` (prefix -> app) behind the same local check."""
        app = web.Application(middlewares=[local_only(self._port)])
        for prefix, subapp in (subapps or {}).items():
            app.add_subapp(prefix, subapp)
        app.add_routes(self.issuer.routes("/botframework"))
        app.add_routes(self._connector.routes("/connector"))
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/vendor/{name}", self._vendor),
                web.get("/api/threads", self._threads),
                web.get("/api/events", self._events),
                web.get("/api/simulator", self._simulator_info),
                web.post("/api/chat", self._chat),
                web.post("/api/invoke", self._invoke),
            ]
        )
        app.router.add_static("/static", STATIC)
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._shutdown)
        app.on_cleanup.append(self._cleanup)
        web_app.add_subapp(PREFIX, app)
        if not all((VENDOR / name).is_file() for name in VENDOR_FILES):
            log.warning("%s is missing: run `npm ci` so the dev page can render cards", VENDOR)

    # -- lifecycle ----------------------------------------------------------------------------

    async def _start(self, _: web.Application) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        self._install_task = asyncio.get_running_loop().create_task(self._install())

    async def _install(self) -> None:
        """Add the bot to the dev team as Teams would, once the host listens."""
        assert self._session is not None
        for _ in range(INSTALL_ATTEMPTS):
            try:
                status, body = await self.teams.post(self._session, self.teams.installation())
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)  # the host is not listening yet
                continue
            if status == 200:
                self.channel.installed = True
                log.info("bot installed in the dev channel %s", self.channel.channel["name"])
            else:
                log.error("installing the bot in the dev channel failed: %s %s", status, body)
            return
        log.error("installing the bot in the dev channel failed: the host never answered")

    async def _shutdown(self, _: web.Application) -> None:
        self.channel.close_subscribers()

    async def _cleanup(self, _: web.Application) -> None:
        if self._install_task is not None:
            self._install_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._install_task
        if self._session is not None:
            await self._session.close()

    # -- page and files ------------------------------------------------------------------------

    async def _index(self, _: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _vendor(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in VENDOR_FILES:
            raise web.HTTPNotFound()
        if not (VENDOR / name).is_file():
            return web.Response(status=404, text=f"{name} missing: run `npm ci` (make setup)")
        return web.FileResponse(VENDOR / name)

    # -- page API -----------------------------------------------------------------------------

    async def _threads(self, _: web.Request) -> web.Response:
        return web.json_response(self.channel.snapshot())

    async def _simulator_info(self, _: web.Request) -> web.Response:
        return web.json_response(self._simulator)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: each new or edited activity, as JSON."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue = self.channel.subscribe()
        try:
            while True:
                try:
                    record = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if record is None:
                    break
                await response.write(f"data: {json.dumps(record)}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self.channel.unsubscribe(queue)
        return response

    async def _chat(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request('send {"text": "..."} with a non-empty text')
        message = self.teams.message(text.strip()[:4000])
        said = self.channel.add(self.channel.chat_id, message)
        status, answer = await self._post(message)
        if status != 200:
            return _bot_failed(status, answer)
        replies = self.channel.replies_to(self.channel.chat_id, message["id"])
        return web.json_response({"activities": replies, "message": said})

    async def _invoke(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        activity_id, verb, data = body.get("activityId"), body.get("verb"), body.get("data")
        if not isinstance(activity_id, str) or not isinstance(verb, str):
            raise _bad_request('send {"activityId", "verb", "data"}')
        if data is not None and not isinstance(data, dict):
            raise _bad_request("data must be a JSON object")
        try:
            record = self.channel.get(activity_id)
        except UnknownConversation as exc:
            return web.json_response({"error": "NotFound", "reason": str(exc)}, status=404)
        status, answer = await self._post(self.teams.invoke(record, verb, data or {}))
        if status != 200:
            return _bot_failed(status, answer)
        return _invoke_answer(answer)

    async def _post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        assert self._session is not None, "the dev chat app has not started"
        return await self.teams.post(self._session, activity)


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The JSON object sent by the page; the JSON content type keeps other sites' forms out."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send application/json")
    try:
        body = loads(await request.read())
    except BadJson as exc:
        raise _bad_request(str(exc)) from None
    if not isinstance(body, dict):
        raise _bad_request("the body must be a JSON object")
    return body


def _bad_request(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"error": "BadRequest", "reason": reason}), content_type="application/json"
    )


def _invoke_answer(answer: Any) -> web.Response:
    """The bot's answer to a click; a refused request (an error answer with a 4xx code, which
    Teams receives with HTTP 200) keeps its code here, with the reason the page shows."""
    refused = isinstance(answer, dict) and answer.get("type") == INVOKE_ERROR
    code = answer.get("statusCode") if refused else None
    if not isinstance(code, int) or not 400 <= code < 500:
        return web.json_response(answer)
    error = answer.get("value") or {}
    body = {**answer, "error": error.get("code") or "BadRequest", "reason": error.get("message")}
    return web.json_response(body, status=code)


def _bot_failed(status: int, answer: Any) -> web.Response:
    reason = answer.get("reason") if isinstance(answer, dict) else None
    body = {"error": "BotFailed", "status": status, "reason": reason or "the bot did not answer"}
    return web.json_response(body, status=502)
