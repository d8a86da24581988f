"""The ARM simulator: HTTPS on 127.0.0.1 with a trustme certificate.

Run it in a background thread (`start()` / `stop()` / `with`), or on an event loop you
already run (`await start_async()`), e.g. inside the local host. With a `state_file` the
estate is written there after every request, so a restarted local host resumes the Azure it
left (`load_estate`). Test-only admin routes:
`GET /_sim/state`, `GET /_sim/requests`, `GET|POST|DELETE /_sim/faults`, `POST /_sim/reset`.
Besides ARM it answers Graph's `POST /v1.0/users/{id}/checkMemberGroups` (see graph.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import shutil
import ssl
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

from devtools.simulator.errors import ArmError
from devtools.simulator.estate import Estate
from devtools.simulator.faults import Fault, FaultConfigError, Faults
from devtools.simulator.graph import GRAPH_MEMBER_GROUPS, GRAPH_ROUTE, check_member_groups
from devtools.simulator.identity import TokenIssuer
from devtools.simulator.requestlog import RequestLog
from devtools.simulator.routes import Ctx, Reply, build_router

log = logging.getLogger(__name__)


class ArmSimulator:
    def __init__(
        self,
        estate: Estate | None = None,
        *,
        faults: Faults | None = None,
        accept_any_token: bool = False,
        port: int = 0,
        state_file: Path | None = None,
    ) -> None:
        self.estate = estate or Estate.demo()
        self._state_file = state_file
        self._initial = self.estate.clone()
        self.faults = faults or Faults()
        self.tokens = TokenIssuer(accept_any_token=accept_any_token)
        self.requests = RequestLog()
        self.router = build_router()
        self.port = port
        self.base_url = ""
        self._dir = Path(tempfile.mkdtemp(prefix="armsim-"))
        self._ca = trustme.CA()
        self.ca_path = str(self._dir / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.add_routes(self.tokens.routes())
        app.add_routes(
            [
                web.get("/_sim/state", self._admin_state),
                web.get("/_sim/requests", self._admin_requests),
                web.get("/_sim/faults", self._admin_faults),
                web.post("/_sim/faults", self._admin_faults),
                web.delete("/_sim/faults", self._admin_faults),
                web.post("/_sim/reset", self._admin_reset),
            ]
        )
        app.router.add_post(GRAPH_MEMBER_GROUPS, self._graph_member_groups)
        app.router.add_route("*", "/{tail:.*}", self._arm)
        return app

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        return context

    async def start_async(self) -> ArmSimulator:
        """Serve on the running event loop."""
        self._runner = web.AppRunner(self.app(), shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self._ssl_context())
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        return self

    async def stop_async(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> ArmSimulator:
        """Serve from a background thread with its own event loop."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=run, name="arm-simulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = self._loop = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ArmSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to the estate the simulator started with; no faults, empty request log."""
        self.estate = self._initial.clone()
        self.faults.clear()
        self.requests.clear()
        self._save()

    # -- ARM ---------------------------------------------------------------------------------

    async def _arm(self, request: web.Request) -> web.StreamResponse:
        matched = self.router.match(request.method, request.path)
        route_name = matched[0].name if matched else "unknown"
        return await self._guarded(
            request, route_name, lambda: self._dispatch(request, matched), arm=True
        )

    async def _graph_member_groups(self, request: web.Request) -> web.StreamResponse:
        """Graph's user checkMemberGroups, answered from the estate's groups."""
        return await self._guarded(
            request, GRAPH_ROUTE, lambda: check_member_groups(self.estate, request), arm=False
        )

    async def _guarded(
        self,
        request: web.Request,
        route_name: str,
        handle: Callable[[], Awaitable[Reply]],
        *,
        arm: bool,
    ) -> web.StreamResponse:
        """Token check, fault injection and the request log around one route's handler."""
        method, path = request.method, request.path
        fault = None
        try:
            if not self.tokens.is_valid(request.headers.get("Authorization")):
                raise ArmError(
                    401,
                    "InvalidAuthenticationToken",
                    "The access token is missing or was not issued by this simulator.",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            fault = self.faults.pick(route_name, method, path)
            if fault and fault.carried_out:
                await _carry_out(handle)
            if fault and fault.kind == "drop":
                self.requests.record(method, path, route_name, 0, arm=arm, fault="drop")
                self._save()
                request.transport.close()
                return web.Response()
            if fault and fault.kind == "timeout":
                await asyncio.sleep(fault.hold_seconds)
            if fault and fault.kind == "status":
                reply = _fault_reply(fault)
            else:
                reply = await handle()
        except ArmError as error:
            reply = Reply(error.status, error.body(), dict(error.headers))
        correlation_id = str(uuid.uuid4())
        request_id = str(uuid.uuid4()) if self.estate.behaviour.request_id_header else None
        self.requests.record(
            method, path, route_name, reply.status, arm=arm, fault=fault.kind if fault else None,
            request_id=request_id, correlation_id=correlation_id,
        )  # fmt: skip
        ids = {"x-ms-correlation-request-id": correlation_id}
        if request_id:
            ids["x-ms-request-id"] = request_id
        self._save()  # before the answer: what a client saw is what a restart finds
        return _respond(reply, ids)

    def _save(self) -> None:
        """Write the estate to the state file, whole: a new file renamed over the old one, so
        a crash leaves one or the other. Reads save too, as polls move jobs and LROs on."""
        if self._state_file is None:
            return
        with self.estate.lock:
            data = pickle.dumps(self.estate)
        written = self._state_file.with_name(self._state_file.name + ".new")
        written.write_bytes(data)
        os.replace(written, self._state_file)

    async def _dispatch(self, request: web.Request, matched) -> Reply:
        if matched is None:
            raise ArmError(
                404, "NotFound", f"No ARM resource or route for {request.method} {request.path}."
            )
        query = {k.lower() if k.startswith("$") else k: v for k, v in request.query.items()}
        if "api-version" not in query:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except json.JSONDecodeError as exc:
                raise ArmError(400, "InvalidRequestContent", f"Body is not JSON: {exc}") from exc
        route, params = matched
        base = f"{request.scheme}://{request.host}"
        return route.handler(Ctx(self.estate, params, query, body, base))

    # -- admin -------------------------------------------------------------------------------

    async def _admin_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.estate.to_state())

    async def _admin_requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.requests.summary())

    async def _admin_faults(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            try:
                self.faults.configure(await request.json())
            except (FaultConfigError, json.JSONDecodeError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.faults.to_json())

    async def _admin_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})


def load_estate(path: Path) -> Estate:
    """The estate a simulator with `state_file=path` last wrote (the file is the local host's
    own, under its state folder; pickle trusts it like the code beside it)."""
    estate = pickle.loads(path.read_bytes())
    if not isinstance(estate, Estate):
        raise TypeError(f"{path} holds a {type(estate).__name__}, not an Estate")
    return estate


async def _carry_out(handle: Callable[[], Awaitable[Reply]]) -> None:
    """Run the request for its effect on the estate; its answer, even a refusal, is lost."""
    with contextlib.suppress(ArmError):
        await handle()


def _fault_reply(fault: Fault) -> Reply:
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    return Reply(fault.status, fault.error_body(), headers)


def _respond(reply: Reply, ids: dict[str, str]) -> web.Response:
    headers = {**ids, **reply.headers}
    if reply.body is None:
        return web.Response(status=reply.status, headers=headers)
    return web.json_response(reply.body, status=reply.status, headers=headers)
