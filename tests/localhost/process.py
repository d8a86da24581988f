"""`python -m remediation serve --simulate` started as a user starts it, in a scratch folder."""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devtools.simulator.estate import DEMO_SUBSCRIPTION
from tests.botkit.cards import cards_in
from tests.botkit.visible import text_problems
from tests.engine.signals import backup_alert_payload

ROOT = Path(__file__).resolve().parents[2]
# The poller runs on the wall clock's five-minute marks: a test that spans one would see what
# it adds (the demo estate's broken migration item, the weekly digest) appear mid-test. Once a
# year keeps a served host still.
QUIET = {"POLLER_SCHEDULE": "0 0 0 1 1 *"}
# The sample alert's estate -> the demo estate that `serve --simulate` runs.
_TO_DEMO = {
    "00000000-0000-0000-0000-000000000001": DEMO_SUBSCRIPTION,
    "rg-backup-prod": "rg-backup",
    "rsv-prod-weu": "rsv-backup-weu",
}


def demo_rp_limit_alert(vm: str = "erp-app-03") -> dict[str, Any]:
    """tests/events' restore-point-limit alert for `vm` of the demo estate and its vault."""
    return _in_demo(backup_alert_payload(vm))


def demo_french_alert(vm: str = "erp-app-04") -> dict[str, Any]:
    """tests/events' French guest agent alert, for `vm` (of rg-erp-prod) of the demo estate."""
    payload = json.loads((ROOT / "tests/events/common_alert_backup_failure_guest_agent_fr.json")
                         .read_text(encoding="utf-8"))  # fmt: skip
    return json.loads(json.dumps(_in_demo(payload)).replace("erp-web-01", vm))


def _in_demo(payload: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(payload)
    for sample, demo in _TO_DEMO.items():
        text = text.replace(sample, demo)
    return json.loads(text)


@dataclass(frozen=True)
class Served:
    base: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def log_entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def host_pid(self) -> int:
        entries = self.log_entries()
        return next(e["pid"] for e in entries if e["message"].startswith("listening on"))

    def worker_pids(self) -> list[int]:
        """The queue workers that started, in order (each logs its start line)."""
        return [
            e["pid"]
            for e in self.log_entries()
            if e["message"] == f"queue worker {e['pid']} started for function remediation_step"
        ]

    def wait_processed(self, timeout: float = 10.0) -> None:
        """Wait until every signal the host recorded has left its queue (incident correlated,
        card posted): webhooks answer 202 once a signal is recorded, before that work."""
        store = f"file:{self.log.parent / '.state' / 'simulate.db'}?mode=ro"
        deadline = time.monotonic() + timeout
        while True:
            with closing(sqlite3.connect(store, uri=True)) as db:
                waiting = db.execute(
                    "SELECT COUNT(*) FROM records WHERE tbl = 'signals' "
                    "AND json_extract(data, '$.state') = 'accepted'"
                ).fetchone()[0]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{waiting} recorded signal(s) unprocessed after {timeout}s")
            time.sleep(0.02)


def proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name; None once the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return text.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("STORE_", "QUEUE_", "BOT_"))}
    return {**keep, **extra, "PYTHONPATH": str(ROOT)}


@contextmanager
def serve_simulated(
    workdir: Path,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[Served]:
    """Start the local host with the simulator (`env`: extra app settings, `args`: extra
    options) in `workdir`, where it resumes the state a previous start left; ready once the bot
    is installed in the dev channel. Raises RuntimeError with the log when it does not come up.
    Each start logs to a file of its own (serve.log, then serve-2.log...). A restart keeps its
    `port`, as Teams keeps the bot's service URL."""
    port = port or free_port()
    log_path = workdir / "serve.log"
    for number in itertools.count(2):
        if not log_path.exists():
            break
        log_path = workdir / f"serve-{number}.log"
    command = [sys.executable, "-m", "remediation", "serve", "--simulate", "--port", str(port)]
    command += args
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=_env(env or {})
        )
    served = Served(f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_installed(served, process, timeout)
        yield served
        assert_readable(served)
    finally:
        process.terminate()
        process.wait(timeout=20)


def assert_readable(served: Served) -> None:
    """Every card the dev channel holds (incident threads, chat answers) says nothing a
    person should never read (tests.botkit.visible)."""
    try:
        snapshot = requests.get(served.base + "/dev/api/threads", timeout=10).json()
    except (requests.RequestException, ValueError):
        return  # the host is down (a test stopped it): there is nothing left to read
    activities = [a for t in snapshot["threads"] for a in t["activities"]] + snapshot["chat"]
    problems = [p for a in activities for card in cards_in(a) for p in text_problems(card)]
    assert not problems, f"what no person may read: {problems}"


def _wait_installed(served: Served, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{served.log_text()}")
        try:
            threads = requests.get(served.base + "/dev/api/threads", timeout=2)
            if threads.ok and threads.json()["installed"]:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve did not install the bot in {timeout}s:\n{served.log_text()}")


@contextmanager
def serve_with_playground(workdir: Path, sdk: str = "botbuilder") -> Iterator[tuple[Served, str]]:
    """`serve --simulate --playground` on the bot SDK `sdk`; the Served host and the
    Playground's URL (the host listens only once the Playground has started)."""
    port = free_port()
    options = ["--playground", "--playground-port", str(port)]
    with serve_simulated(workdir, env={**QUIET, "BOT_SDK": sdk}, args=options) as served:
        yield served, f"http://127.0.0.1:{port}"


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the listening TCP sockets on `port` (Linux /proc/net)."""
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)  # little-endian 32-bit words
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(str(ipaddress.ip_address(words)))
    return found
