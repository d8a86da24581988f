"""The local Functions host: what `function_app.py` registers, served on 127.0.0.1.

Core Tools can't be installed here, so this host reads the Functions library's own metadata
(`FunctionApp.get_functions()`) and mounts each function the way Azure would: HTTP triggers at
/api/<route>, Event Grid triggers at Core Tools' /runtime/webhooks/eventgrid, the timer on its
NCRONTAB schedule, and the Service Bus trigger fed by the in-process queue. As on Flex
Consumption, the Service Bus-triggered function runs in a process of its own (see queue_worker);
the rest run in the host's. The function code that runs is exactly the code Azure runs. Like
Core Tools, it does not check function keys; where Azure's host admits a request to the Event
Grid trigger endpoint only with its system key, this one asks for ALERTS_SHARED_SECRET (when
set), as the webhooks do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.functions.timer import TimerRequest

from devtools.localhost.dead_letters import DeadLetters
from devtools.localhost.invocation import invoke
from devtools.localhost.ncrontab import Schedule
from devtools.localhost.queue_worker import QueueWorker
from remediation.settings import Settings
from remediation.webhooks import MAX_EVENT_BATCH_BYTES, Reply, gate, read_json

log = logging.getLogger("devtools.localhost")
_SETTING_REF = re.compile(r"%([A-Za-z0-9_]+)%")
_ROUTE_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_TIMESPAN = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})")


def resolve(value: str, settings: Settings) -> str:
    """Binding expressions such as %POLLER_SCHEDULE% read from the app settings."""
    return _SETTING_REF.sub(lambda m: settings.get(m.group(1)), value)


def function_timeout(host_json: Path) -> float | None:
    """host.json's functionTimeout ("hh:mm:ss") in seconds; None for -1 (no limit); Flex
    Consumption's default of 30 minutes when it is absent."""
    try:
        value = json.loads(host_json.read_text(encoding="utf-8")).get("functionTimeout")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{host_json}: cannot read functionTimeout ({exc})") from exc
    if value is None:
        return 30 * 60.0
    if str(value).strip() == "-1":
        return None
    match = _TIMESPAN.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"{host_json}: functionTimeout {value!r} is not hh:mm:ss")
    hours, minutes, seconds = (int(part) for part in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def _reply(reply: Reply) -> web.Response:
    return web.Response(
        status=reply.status, body=reply.json_bytes(), headers=reply.headers,
        content_type="application/json" if reply.body is not None else None,
    )  # fmt: skip


def _to_aiohttp(response: func.HttpResponse) -> web.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return web.Response(
        status=response.status_code,
        body=response.get_body(),
        headers=headers,
        content_type=response.mimetype if response.get_body() else None,
        charset=response.charset if response.get_body() else None,
    )


class LocalHost:
    """The functions mounted on an aiohttp app; `on_worker_restart` runs when the queue
    worker died and was replaced."""

    def __init__(
        self,
        app: func.FunctionApp,
        settings: Settings,
        queue: Any,
        on_worker_restart: Callable[[], None] | None = None,
        function_timeout: float | None = None,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self._settings = settings
        self._dead_letters = dead_letters
        self._function_timeout = function_timeout
        self._queue = queue
        self._on_worker_restart = on_worker_restart
        self._functions = app.get_functions()  # the library allows one call per app
        self._tasks: list[asyncio.Task] = []
        self._worker: QueueWorker | None = None
        self._serving: asyncio.Task | None = None
        self.routes: list[tuple[str, str, str]] = []

    def mount(self, web_app: web.Application) -> None:
        for function in self._functions:
            trigger = function.get_trigger()
            name = function.get_function_name()
            if trigger.type == "httpTrigger":
                self._mount_http(web_app, function, trigger)
            elif trigger.type == "eventGridTrigger":
                self.routes.append(("POST", "/runtime/webhooks/eventgrid", name))
            elif trigger.type == "timerTrigger":
                self.routes.append(("TIMER", resolve(trigger.schedule, self._settings), name))
            elif trigger.type == "serviceBusTrigger":
                queue = resolve(trigger.queue_name, self._settings)
                self.routes.append(("QUEUE", queue, name))
        if any(t.get_trigger().type == "eventGridTrigger" for t in self._functions):
            web_app.router.add_post("/runtime/webhooks/eventgrid", self._event_grid)
        web_app.on_startup.append(self._start_background)
        web_app.on_cleanup.append(self._stop_background)

    def _mount_http(self, web_app: web.Application, function: Any, trigger: Any) -> None:
        path = "/api/" + _ROUTE_PARAM.sub(r"{\1}", trigger.route)
        methods = [str(m) for m in trigger.methods] if trigger.methods else ["*"]
        handler = self._http_handler(function, trigger.name)
        for method in methods:
            web_app.router.add_route(method, path, handler)
            self.routes.append((method, path, function.get_function_name()))

    def _http_handler(self, function: Any, arg_name: str) -> Callable:
        async def handle(request: web.Request) -> web.Response:
            req = func.HttpRequest(
                request.method,
                str(request.url),
                headers=dict(request.headers),
                params=dict(request.query),
                route_params=dict(request.match_info),
                body=await request.read(),
            )
            response = await invoke(function, **{arg_name: req})
            return _to_aiohttp(response)

        return handle

    async def _event_grid(self, request: web.Request) -> web.Response:
        """Core Tools' local Event Grid trigger endpoint: ?functionName=<name>."""
        secret = self._settings.get("ALERTS_SHARED_SECRET")
        refused = gate(request.headers, request.query, secret)
        if refused:
            return _reply(refused)
        name = request.query.get("functionName", "")
        function = next((f for f in self._functions if f.get_function_name() == name), None)
        if function is None or function.get_trigger().type != "eventGridTrigger":
            return web.json_response({"error": f"no Event Grid function {name!r}"}, status=404)
        events, refused = read_json(await request.read(), MAX_EVENT_BATCH_BYTES)
        if refused:
            return _reply(refused)
        events = events if isinstance(events, list) else [events]
        for event in events:
            if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                return web.json_response({"error": "each event needs a data object"}, status=400)
            grid_event = func.EventGridEvent(
                id=str(event.get("id", "")), data=event["data"], topic=event.get("topic"),
                subject=event.get("subject"), event_type=event.get("eventType"),
                event_time=None, data_version=event.get("dataVersion"),
            )  # fmt: skip
            await invoke(function, **{function.get_trigger().name: grid_event})
        return web.Response(status=200)

    async def _start_background(self, _: web.Application) -> None:
        loop = asyncio.get_running_loop()
        for function in self._functions:
            trigger = function.get_trigger()
            if trigger.type == "timerTrigger":
                schedule = Schedule.parse(resolve(trigger.schedule, self._settings))
                self._tasks.append(loop.create_task(self._timer(function, schedule)))
            elif trigger.type == "serviceBusTrigger":
                name = function.get_function_name()
                self._worker = QueueWorker(
                    name, self._queue, self._on_worker_restart,
                    function_timeout=self._function_timeout, dead_letters=self._dead_letters,
                )  # fmt: skip
                self._worker.start()
                self._serving = loop.create_task(self._worker.serve(self._queue_error))

    async def _stop_background(self, _: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._worker is not None and self._serving is not None:
            await self._worker.finish(self._serving)  # the message in flight ends first

    async def _timer(self, function: Any, schedule: Schedule) -> None:
        name = function.get_trigger().name
        while True:
            now = datetime.now(UTC)
            due = schedule.next_after(now)
            await asyncio.sleep((due - now).total_seconds())
            try:
                await invoke(function, **{name: TimerRequest(past_due=False)})
            except Exception:
                log.exception("timer function %s failed", function.get_function_name())

    @staticmethod
    def _queue_error(exc: Exception) -> None:
        log.error("remediation queue message failed: %s", exc)
