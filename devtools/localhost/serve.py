"""`serve`: the local host, optionally with the ARM simulator and a replayed sample.

With --simulate its state lives in .state/: the SQLite store, the simulator's estate, the dev
channel's threads and the dead-lettered messages. A restart (after a crash too) resumes all
of it and says what it resumed: signals recorded but never processed are queued again, fix
runs in flight go on from their current step. `--reset` starts a fresh demo instead.
"""

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
from remediation.clock import iso, utcnow

log = logging.getLogger("devtools.localhost")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The simulated estate lives 300x faster when a fix waits on it: Azure Backup's cleanup, which
# a fix gives hours, lands in seconds, and a 5-minute settle before a retry takes one.
SIMULATED_TIME_SCALE = 1 / 300
STATE = Path(".state")
SIMULATED_STORE = STATE / "simulate.db"
SIMULATED_ESTATE = STATE / "simulate-estate.pickle"
DEV_CHANNEL = STATE / "simulate-channel.jsonl"
SIMULATED_DEAD_LETTERS = STATE / "simulate-dead-letters.jsonl"
DEAD_LETTERS = STATE / "dead-letters.jsonl"  # without --simulate: beside the user's store
SIMULATED_STATE = (
    SIMULATED_STORE, SIMULATED_STORE.with_name("simulate.db-wal"),
    SIMULATED_STORE.with_name("simulate.db-shm"), SIMULATED_ESTATE, DEV_CHANNEL,
    SIMULATED_DEAD_LETTERS,
)  # fmt: skip


class StateError(Exception):
    """The saved state cannot be resumed; the message says what to do."""


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
        "STORE_SQLITE_PATH": str(SIMULATED_STORE),
        "QUEUE_KIND": "memory",
    }


def base_url(host: str, port: int) -> str:
    return f"http://{'[::1]' if host == '::1' else host}:{port}"


def dev_chat(sim: Any, host: str, port: int, journal: Path | None = None) -> Any:
    """The dev chat page's Teams side, playing Teams for the bot against the simulator;
    `journal` keeps its threads across restarts."""
    from devtools.localhost.devchat.app import DevChat
    from devtools.simulator.identity import TEST_TENANT

    return DevChat(
        base_url(host, port),
        tenant_id=TEST_TENANT,
        user=DEV_USER,
        token_check=sim.tokens.is_valid,  # the bot's token comes from the simulator's Entra
        simulator={"base_url": sim.base_url, "ca_path": sim.ca_path},
        journal=journal,
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
    host: str,
    port: int,
    simulate: bool,
    replay: Path | None,
    reset: bool = False,
    playground_port: int | None = None,
) -> tuple[web.Application, Any]:
    """The aiohttp application and the simulator (or None); settings go to os.environ.
    `playground_port` (with `simulate`) adds the Agents Playground on that port. Raises
    StateError when the saved simulated state cannot be resumed."""
    sim = dev = None
    if simulate:
        from devtools.simulator import ArmSimulator

        STATE.mkdir(exist_ok=True)
        if reset:
            _remove_simulated_state()
        sim = ArmSimulator(_estate(), state_file=SIMULATED_ESTATE).start()
        dev = dev_chat(sim, host, port, journal=DEV_CHANNEL)
        os.environ.update(simulated_environment(sim) | dev.environment())
    os.environ.setdefault("QUEUE_KIND", "memory")

    import function_app
    from devtools.localhost.dead_letters import DeadLetters
    from devtools.localhost.deadline import body_deadline
    from devtools.localhost.host import LocalHost, function_timeout
    from remediation.queue.memory import InProcessQueue
    from remediation.store import SqliteStore
    from wiring.services import services

    app_services = services()
    engine = app_services.engine
    if simulate and isinstance(engine.queue, InProcessQueue):
        engine.queue.time_scale = SIMULATED_TIME_SCALE
    if isinstance(engine.store, SqliteStore):  # acks never wait for a checkpoint
        engine.store.checkpoint_in_background()
    dead_letters = DeadLetters(SIMULATED_DEAD_LETTERS if simulate else DEAD_LETTERS)
    local = LocalHost(
        function_app.app, app_services.settings, engine.queue, lambda: resume_runs(engine),
        function_timeout=function_timeout(Path(function_app.__file__).with_name("host.json")),
        dead_letters=dead_letters,
    )  # fmt: skip
    web_app = web.Application(client_max_size=4 * 1024 * 1024, middlewares=[body_deadline()])
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
    resumed = resume_runs(engine)
    # The in-process queue died with the last process: its unprocessed signals are sent again.
    requeued = engine.requeue_unprocessed(older_than=timedelta(0))
    if requeued:
        log.info("queued %d recorded signal(s) again", requeued)
    if simulate:
        _say_what_resumed(reset, requeued, resumed, len(dead_letters), dev.channel.thread_count)
    if replay:
        web_app.on_startup.append(lambda app: _replay_later(app, replay, host, port))
    return web_app, sim


def _remove_simulated_state() -> None:
    removed = [str(path) for path in SIMULATED_STATE if path.exists()]
    for path in SIMULATED_STATE:
        path.unlink(missing_ok=True)
    log.warning("--reset: a fresh demo; removed %s", ", ".join(removed) or "nothing (no state)")


def _estate() -> Any:
    """The simulator's estate as the last run left it, or the demo estate when none is saved."""
    from devtools.simulator import Behaviour, Estate
    from devtools.simulator.server import load_estate

    if not SIMULATED_ESTATE.exists():
        # ARM answers LROs with Retry-After; one second keeps a demo fix run short.
        return Estate.demo(behaviour=Behaviour(retry_after=1))
    try:
        return load_estate(SIMULATED_ESTATE)
    except Exception as exc:  # unpickling can raise anything a changed class makes it
        raise StateError(
            f"cannot resume the simulator's estate from {SIMULATED_ESTATE} "
            f"({type(exc).__name__}: {exc}); start afresh with --reset"
        ) from exc


def _say_what_resumed(reset: bool, requeued: int, resumed: int, dead: int, threads: int) -> None:
    if reset or not (requeued or resumed or dead or threads):
        log.info("simulated state: a fresh demo in %s (it is kept across restarts; "
                 "--reset starts afresh)", STATE)  # fmt: skip
        return
    log.warning(
        "resumed the simulated state in %s: %d card thread(s), %d signal(s) recorded but "
        "unprocessed (queued again), %d fix run(s) in flight (resumed from their current "
        "step), %d dead-lettered message(s) (not delivered again); --reset starts afresh",
        STATE, threads, requeued, resumed, dead,
    )  # fmt: skip


async def _start_playground(client: Any) -> None:
    await client.start()
    log.info("Agents Playground: %s/ (bound to 127.0.0.1; open it in a browser)", client.url)


def resume_runs(engine: Any) -> int:
    """Send again the current step of every fix the queue worker held when it died (or when
    the last `serve` ended): it is the only process running steps, so none is held by another.
    """
    resumed = engine.runner.resume_stale(sole_worker=True)
    if resumed:
        log.info("resumed %d interrupted fix run(s)", len(resumed))
    return len(resumed)


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
                payload = _fired_now(json.loads(line), iso(utcnow()))
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


REDATED = ("firedDateTime", "eventTime")


def _fired_now(payload: Any, now: str) -> Any:
    """The payload as if it fired `now`: a replayed sample's alerts and events are new to the
    demo, which should not open incidents first seen when the sample was written."""
    if isinstance(payload, list):
        return [_fired_now(item, now) for item in payload]
    if isinstance(payload, dict):
        return {k: now if k in REDATED else _fired_now(v, now) for k, v in payload.items()}
    return payload


def serve(
    host: str,
    port: int,
    simulate: bool,
    replay: Path | None,
    reset: bool = False,
    playground_port: int | None = None,
) -> int:
    logs.configure()
    if simulate and host not in LOOPBACK:
        log.error("--simulate serves the dev chat page, which is for loopback only")
        return 2
    if reset and not simulate:
        log.error("--reset starts a fresh simulated state; without --simulate the store is "
                  "the one your settings name, which serve never deletes")  # fmt: skip
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
    try:
        web_app, sim = build(host, port, simulate, replay, reset, playground_port)
    except StateError as exc:
        log.error("%s", exc)
        return 2
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
