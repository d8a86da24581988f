"""Starts the Microsoft 365 Agents Playground from node_modules, bound to 127.0.0.1.

The Playground (npm @microsoft/m365agentsplayground, pinned in package.json) serves a
Teams-like web client and plays the Bot Connector for the bot's replies. It is started with
telemetry off, no browser, a config that makes its user the dev approver in the simulator's
tenant, the bridge as its bot endpoint, and a Node preload that binds its server to loopback
(its CLI has no host option). Its own log goes to .state/playground.log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import yaml

log = logging.getLogger("devtools.localhost.playground")

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
BIND_LOOPBACK = Path(__file__).with_name("bind_loopback.cjs")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LOG_NAME = "playground.log"
TEAM = {"id": "19:playground-team@thread.tacv2", "name": "Playground Team"}
CHANNEL = {"id": "19:playground-remediation@thread.tacv2", "name": "remediation"}
BOT = {"id": "28:playground-remediation-bot", "name": "Remediation"}
# The Playground's config wants exactly five other users: colleagues who are no approvers.
COLLEAGUES = ("Sam Reader", "Ada Watcher", "Noor Analyst", "Lin Auditor", "Joe Intern")


class PlaygroundError(RuntimeError):
    """The Playground is not installed or did not start: the message says what to do."""


def config(tenant_id: str, user: dict[str, str]) -> dict[str, Any]:
    """The Playground's team, bot and users: `user` (the dev approver) is the one who acts,
    in the simulator's tenant; colleagues who are no approvers fill the group chat and team."""
    return {
        "version": "0.1.1",
        "tenantId": tenant_id,
        "bot": BOT,
        "currentUser": _user("29:playground-" + user["object_id"], user),
        "users": [
            _user(f"29:playground-colleague-{n}",
                  {"name": name, "object_id": f"00000000-0000-4000-8000-0000000c011{n}"})
            for n, name in enumerate(COLLEAGUES)
        ],
        "personalChat": {"id": "a:playground-personal-chat"},
        "groupChat": {"id": "19:playground-group-chat@thread.v2", "name": "Ops group chat"},
        "team": {**TEAM, "aadGroupId": "00000000-0000-4000-8000-0000000000a1",
                 "channels": [CHANNEL]},
    }  # fmt: skip


def _user(channel_id: str, user: dict[str, str]) -> dict[str, str]:
    given, _, surname = user["name"].partition(" ")
    login = user["name"].lower().replace(" ", ".") + "@example.com"
    return {
        "id": channel_id,
        "name": user["name"],
        "userPrincipleName": login,  # sic: the Playground's spelling
        "aadObjectId": user["object_id"],
        "givenName": given,
        "surname": surname or given,
        "email": login,
    }


class Playground:
    """One Playground process on 127.0.0.1:`port`, sending to `app_endpoint`."""

    def __init__(self, port: int, app_endpoint: str, settings: dict[str, Any], state: Path):
        self.port = port
        self._app_endpoint = app_endpoint
        self._settings = settings
        self._state = state.resolve()
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        """Its Bot Connector, where the bot's replies go (the activities' serviceUrl)."""
        return self.url + "/_connector"

    async def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise PlaygroundError("node is not on PATH: the Agents Playground needs Node.js")
        if not CLI.is_file():
            raise PlaygroundError(f"{CLI} is missing: run `npm ci` (make setup)")
        self._state.mkdir(parents=True, exist_ok=True)
        config_path = self._state / "m365agentsplayground.yml"
        config_path.write_text(yaml.safe_dump(self._settings, sort_keys=False), encoding="utf-8")
        env = {
            **os.environ,
            "TEAMSAPPTESTER_BROWSER": "none",  # never open a browser
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config_path),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(self._state / LOG_NAME),
        }
        command = [
            node, "--require", str(BIND_LOOPBACK), str(CLI), "start",
            "--app-endpoint", self._app_endpoint, "--channel-id", "msteams",
            "--port", str(self.port), "--service-url", self.service_url,
            "--disable-telemetry",
        ]  # fmt: skip
        self._process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=self._state,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            await asyncio.wait_for(self._ready(), START_TIMEOUT)
        except TimeoutError:
            await self.stop()
            raise PlaygroundError(
                f"the Playground did not start in {START_TIMEOUT:.0f} s"
            ) from None
        except PlaygroundError:
            await self.stop()
            raise

    async def _ready(self) -> None:
        """Listening, and past reading its config (it exits on a bad one): its backend answers."""
        await self._listening()
        async with aiohttp.ClientSession() as session:
            while self._process is not None and self._process.returncode is None:
                try:
                    async with session.get(self.url + "/_debug/ping") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
        raise PlaygroundError(f"the Playground stopped: see {self._state / LOG_NAME}")

    async def _listening(self) -> None:
        """Wait for "Listening on <port>"; the Playground moves to another port when its own is
        taken, which would leave the bot's replies without a connector."""
        assert self._process is not None and self._process.stdout is not None
        output = self._process.stdout
        while raw := await output.readline():
            line = raw.decode(errors="replace").strip()
            if line.startswith("Listening on "):
                if line != f"Listening on {self.port}":
                    raise PlaygroundError(f"port {self.port} is taken: choose --playground-port")
                self._drain = asyncio.get_running_loop().create_task(_log_lines(output))
                return
            log.info("playground: %s", line)
        code = await self._process.wait()
        raise PlaygroundError(f"the Playground exited ({code}): see {self._state / LOG_NAME}")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._drain is not None:
            await self._drain  # ends with the process's output


async def _log_lines(output: asyncio.StreamReader) -> None:
    """Keep the pipe drained: anything the Playground prints after start-up goes to our log."""
    while raw := await output.readline():
        log.info("playground: %s", raw.decode(errors="replace").rstrip())
