"""Start the Azurite Table service for tests: one node process on a free loopback port.

Usable from any test folder: `connection, stop = start_azurite(tmp_dir)` (HTTP, shared key),
or `endpoint, stop = start_azurite_oauth(tmp_dir, cert, key)` (HTTPS, Entra tokens checked as
Azurite's "basic" OAuth level does: shape, lifetime, issuer and audience). Node runs Azurite's
JavaScript entry point directly (not the npx or .bin shims), so the PID we hold is the server
and stopping it leaves no orphan.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENTRY = REPO / "node_modules" / "azurite" / "dist" / "src" / "table" / "main.js"
ACCOUNT = "devstoreaccount1"
# Azurite's fixed, publicly documented development key: not a secret.
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STARTUP_SECONDS = 15.0


class AzuriteUnavailable(RuntimeError):
    """Azurite is not installed or did not start; the message says how to fix it."""


def start_azurite(tmp_dir: Path) -> tuple[str, Callable[[], None]]:
    """Run Azurite Table with its data in tmp_dir; return its connection string and a stopper."""
    port, stop = _run(tmp_dir, [])
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={DEV_KEY};"
        f"TableEndpoint={endpoint};"
    )
    return connection, stop


def start_azurite_oauth(tmp_dir: Path, cert: Path, key: Path) -> tuple[str, Callable[[], None]]:
    """Azurite Table over HTTPS that takes Entra bearer tokens, as an identity-based app uses
    Table storage; return the account's table endpoint and a stopper."""
    port, stop = _run(tmp_dir, ["--cert", str(cert), "--key", str(key), "--oauth", "basic"])
    return f"https://127.0.0.1:{port}/{ACCOUNT}", stop


def _run(tmp_dir: Path, options: list[str]) -> tuple[int, Callable[[], None]]:
    node = shutil.which("node")
    if node is None:
        raise AzuriteUnavailable("node is not on PATH; the project's setup installs Node.js")
    if not ENTRY.is_file():
        raise AzuriteUnavailable(f"{ENTRY} is missing: run `npm install` in {REPO}")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = tmp_dir / "azurite.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, str(ENTRY), "--tableHost", "127.0.0.1", "--tablePort", str(port),
             "--location", str(tmp_dir), "--silent", "--disableTelemetry", *options],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    try:
        _wait_for_port(process, port, log_path)
    except BaseException:
        stop()
        raise
    return port, stop


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AzuriteUnavailable(
                f"Azurite exited with code {process.returncode}: {log_path.read_text()[-2000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AzuriteUnavailable(f"Azurite did not listen on port {port} within {STARTUP_SECONDS} s")
