"""A loopback stand-in for a Service Bus namespace (standin.js, on npm's rhea), for tests and
benchmarks that run the app with its deployed, identity-based Service Bus settings."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("standin.js")
STARTUP_SECONDS = 10.0


class StandInUnavailable(RuntimeError):
    """node or rhea is missing, or the stand-in did not start; the message says which."""


@dataclass
class ServiceBusStandIn:
    """A running stand-in: `namespace` is what ServiceBusConnection__fullyQualifiedNamespace
    holds (host:port), `messages()` what the queues accepted so far, in order."""

    namespace: str
    messages_path: Path
    process: subprocess.Popen[bytes]

    def messages(self, queue: str | None = None) -> list[dict[str, Any]]:
        if not self.messages_path.exists():
            return []
        lines = self.messages_path.read_text().splitlines()
        found = [json.loads(line) for line in lines if line.strip()]
        return [m for m in found if queue is None or m["queue"] == queue]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_servicebus(tmp_dir: Path, cert: Path, key: Path) -> ServiceBusStandIn:
    """Start the stand-in on a free loopback port with a TLS certificate for 127.0.0.1."""
    node = shutil.which("node")
    if node is None:
        raise StandInUnavailable("node is not on PATH; the project's setup installs Node.js")
    if not (REPO / "node_modules" / "rhea").is_dir():
        raise StandInUnavailable(f"rhea is missing: run `npm ci` in {REPO}")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    messages = tmp_dir / "servicebus-messages.jsonl"
    log_path = tmp_dir / "servicebus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, str(SCRIPT), "--port", str(port), "--cert", str(cert), "--key", str(key),
             "--messages", str(messages)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    standin = ServiceBusStandIn(f"127.0.0.1:{port}", messages, process)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StandInUnavailable(f"stand-in exited: {log_path.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return standin
        except OSError:
            time.sleep(0.1)
    standin.stop()
    raise StandInUnavailable(f"stand-in did not listen on port {port} within {STARTUP_SECONDS} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
