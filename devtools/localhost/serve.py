"""`serve`: the local host, optionally with the ARM simulator and a replayed sample."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

from devtools.localhost import logs
from devtools.localhost.playground.launcher import PlaygroundError

log = logging.getLogger("devtools.localhost")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STATE = Path(".state")
DEV_USER = {
    "object_id": "00000000-0000-0000-0000-00000000d0e5",
    "name": "Dev Operator",
}


def simulated_environment(sim: Any) -> dict[str, str]:
    """Settings that point the app at the simulator (ARM, Entra and Graph), with the dev user
    as approver, listed and as a member of the demo approver group."""
    from devtools.simulator.estate import DEMO_APPROVER_GROUP
    from devtools.simulator.identity import TEST_CLIENT, TEST_TENANT

    vaults = ",".join(v.id for v in sim.estate.vaults.values())
    return {
        "ARM_ENDPOINT": sim.base_url,
        "ARM_CA_BUNDLE": sim.ca_path,
        "AZURE_AUTHORITY_HOST": sim.base_url,
        "AZURE_TENANT_ID": TEST_TENANT,
        "AZURE_CLIENT_ID": TEST_CLIENT,
        "AZURE_CLIENT_SECRET": "simulator-only-secret",
        "POLL_VAULT_IDS": vaults,
        "APPROVER_OBJECT_IDS": DEV_USER["object_id"],
        "APPROVER_GROUP_ID": DEMO_APPROVER_GROUP,
        "GRAPH_ENDPOINT": sim.base_url,
        "STORE_KIND": "sqlite",
        "STORE_SQLITE_PATH": str(STATE / "simulate.db"),
        "QUEUE_KIND": "memory",
    }


def base_url(host: str, port: int) -> str:
    return f"http://{'[::1]' if host == '::1' else host}:{port}"


def dev_chat(sim: Any, host: str, port: int) -> Any:
    """The dev chat page's Teams side, playing Teams for the bot against the simulator."""
    from devtools.localhost.devchat.app import DevChat
    from devtools.simulator.identity import TEST_TENANT

    return DevChat(
        base_url(host, port),
        tenant_id=TEST_TENANT,
        user=DEV_USER,
        token_check=sim.tokens.is_valid,  # the bot's token comes from the simulator's Entra
        simulator={"base_url": sim.base_url, "ca_path": sim.ca_path},
    )


def playground(dev: Any, host: str, port: int, playground_port: int) -> tuple[Any, Any]:
    """The Agents Playground as the dev user, and the bridge that signs what it sends."""
    from devtools.localhost.playground.bridge import PlaygroundBridge
    from devtools.localhost.playground.launcher import Playground, config

    bridge_url = base_url(host, port) + "/dev/playground/api/messages"
    client = Playground(playground_port, bridge_url, config(dev.tenant_id, DEV_USER), STATE)
    bridge = PlaygroundBridge(dev.issuer, base_url(host, port) + "/api/messages",
                              client.service_url)  # fmt: skip
    return client, bridge


def build(
    host: str, port: int, simulate: bool, replay: Path | None, playground_port: int | None = None
) -> tuple[web.Application, Any]:
    """The aiohttp application and the simulator (or None); settings go to os.environ.
    `playground_port` (with `simulate`) adds the Agents Playground on that port."""
    sim = dev = None
    if simulate:
        from devtools.simulator import ArmSimulator, Behaviour, Estate

        # ARM answers LROs with Retry-After; one second keeps a demo fix run short.
        sim = ArmSimulator(Estate.demo(behaviour=Behaviour(retry_after=1))).start()
        for suffix in ("", "-wal", "-shm"):  # a fresh demo: a stale log must not replay into it
            (STATE / f"simulate.db{suffix}").unlink(missing_ok=True)
        dev = dev_chat(sim, host, port)
        os.environ.update(simulated_environment(sim) | dev.environment())
    os.environ.setdefault("QUEUE_KIND", "memory")

    import function_app
    from devtools.localhost.host import LocalHost, function_timeout
    from remediation.store import SqliteStore
    from wiring.services import services

    app_services = services()
    engine = app_services.engine
    if isinstance(engine.store, SqliteStore):  # acks never wait for a checkpoint
        engine.store.checkpoint_in_background()
    local = LocalHost(
        function_app.app, app_services.settings, engine.queue, lambda: resume_runs(engine),
        function_timeout=function_timeout(Path(function_app.__file__).with_name("host.json")),
    )  # fmt: skip
    web_app = web.Application(client_max_size=4 * 1024 * 1024)
    local.mount(web_app)
    for method, path, name in local.routes:
        log.info("function %s: %s %s", name, method, path)
    if dev is not None:
        subapps = {}
        if playground_port is not None:
            client, bridge = playground(dev, host, port, playground_port)
            subapps["/playground"] = bridge.app()
            web_app.on_startup.append(lambda _: _start_playground(client))
            web_app.on_cleanup.append(lambda _: client.stop())
        dev.mount(web_app, subapps)
        log.info("dev chat page: %s/dev/ (simulator at %s)", base_url(host, port), sim.base_url)
    bot_runtime = getattr(engine.notifier, "runtime", None)
    if bot_runtime is not None:  # the Teams bot's loop thread and its Bot Connector session
        web_app.on_cleanup.append(lambda _: asyncio.to_thread(bot_runtime.close))
    resume_runs(engine)
    # The in-process queue died with the last process: its unprocessed signals are sent again.
    requeued = engine.requeue_unprocessed(older_than=timedelta(0))
    if requeued:
        log.info("queued %d recorded signal(s) again", requeued)
    if replay:
        web_app.on_startup.append(lambda app: _replay_later(app, replay, host, port))
    return web_app, sim


async def _start_playground(client: Any) -> None:
    await client.start()
    log.info("Agents Playground: %s/ (bound to 127.0.0.1; open it in a browser)", client.url)


def resume_runs(engine: Any) -> None:
    """Send again the current step of every fix the queue worker held when it died (or when
    the last `serve` ended): it is the only process running steps, so none is held by another.
    """
    resumed = engine.runner.resume_stale(sole_worker=True)
    if resumed:
        log.info("resumed %d interrupted fix run(s)", len(resumed))


async def _replay_later(app: web.Application, path: Path, host: str, port: int) -> None:
    app["replay"] = asyncio.get_running_loop().create_task(_post_file(path, host, port))


async def _post_file(path: Path, host: str, port: int) -> None:
    """Feed payloads in through the real webhook routes, once the server listens."""
    await asyncio.sleep(0.5)
    base = base_url(host, port)
    async with ClientSession() as session:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
            except ValueError as exc:
                log.warning("replay line %d skipped: %s", number, exc)
                continue
            route = (
                "/api/alerts"
                if isinstance(payload, dict) and "schemaId" in payload
                else ("/api/eventgrid")
            )
            async with session.post(base + route, json=payload) as response:
                log.info("replayed line %d to %s: %s", number, route, response.status)


def serve(
    host: str, port: int, simulate: bool, replay: Path | None, playground_port: int | None = None
) -> int:
    logs.configure()
    if simulate and host not in LOOPBACK:
        log.error("--simulate serves the dev chat page, which is for loopback only")
        return 2
    if playground_port is not None and not simulate:
        log.error("--playground needs --simulate: it talks to the bot through a dev-only bridge")
        return 2
    if replay and not replay.is_file():
        log.error("replay file %s not found", replay)
        return 2
    if not simulate and os.environ.get("QUEUE_KIND", "memory") != "memory":
        log.error("serve feeds the Service Bus trigger from its in-process queue: "
                  "unset QUEUE_KIND (it is %r)", os.environ["QUEUE_KIND"])  # fmt: skip
        return 2
    web_app, sim = build(host, port, simulate, replay, playground_port)
    # What start-up built (imports, the demo estate, the simulator) lives as long as the host:
    # frozen out of the collector's way, a full collection under load no longer scans it
    # (one took 50 ms here, stalling every request in flight).
    gc.collect()
    gc.freeze()
    log.info("listening on http://%s:%d (Ctrl-C stops)", host, port)
    try:
        web.run_app(web_app, host=host, port=port, print=None, handle_signals=True)
    except PlaygroundError as exc:
        log.error("%s", exc)
        return 2
    finally:
        if sim is not None:
            sim.stop()
    return 0
