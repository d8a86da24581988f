"""What the reliability suites read from a running `serve --simulate`: its store, its dev
channel and its simulator, all as an outside observer would."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.localhost.process import QUIET, Served, demo_rp_limit_alert, serve_simulated

# Tables a request can write to directly; the background worker only adds runs' side records.
INPUT_TABLES = ("signals", "incidents", "incident_keys", "approvals", "runs", "conversations")


class StoreProbe:
    """Read-only view of the server's SQLite store (`.state/simulate.db` in its folder)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def counts(self, tables: tuple[str, ...] = INPUT_TABLES) -> dict[str, int]:
        marks = ",".join("?" * len(tables))
        rows = self._conn.execute(
            f"SELECT tbl, COUNT(*) FROM records WHERE tbl IN ({marks}) GROUP BY tbl", tables
        ).fetchall()
        return {table: 0 for table in tables} | dict(rows)

    def signal_total(self) -> int:
        """Signals the incidents have taken in (each fired signal counts once)."""
        row = self._conn.execute(
            "SELECT COALESCE(SUM(json_extract(data, '$.signal_count')), 0) FROM records "
            "WHERE tbl = 'incidents'"
        ).fetchone()
        return int(row[0])

    def documents(self, table: str) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT data FROM records WHERE tbl = ?", (table,)).fetchall()
        return [json.loads(data) for (data,) in rows]

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class Server:
    served: Served
    store: StoreProbe
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def base(self) -> str:
        return self.served.base

    def threads(self) -> list[dict[str, Any]]:
        """The dev channel's threads: one per card the bot posted."""
        return self.session.get(self.base + "/dev/api/threads", timeout=10).json()["threads"]

    def chat(self, text: str) -> dict[str, Any]:
        answer = self.session.post(self.base + "/dev/api/chat", json={"text": text}, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def click(self, root: dict[str, Any], verb: str, data: dict[str, Any]) -> int:
        """The dev user pressing the card button `verb` on the message `root`."""
        answer = self.session.post(
            self.base + "/dev/api/invoke",
            json={"activityId": root["id"], "verb": verb, "data": data},
            timeout=30,
        )
        return answer.status_code

    def simulator_state(self) -> dict[str, Any]:
        sim = requests.get(self.base + "/dev/api/simulator", timeout=10).json()
        state = requests.get(sim["base_url"] + "/_sim/state", verify=sim["ca_path"], timeout=10)
        state.raise_for_status()
        return state.json()


def action_data(card: Any, verb: str) -> dict[str, Any] | None:
    """The data of the card's Action.Execute button for `verb`, wherever it sits."""
    if isinstance(card, dict):
        if card.get("type") == "Action.Execute" and card.get("verb") == verb:
            return card.get("data") or {}
        children = list(card.values())
    elif isinstance(card, list):
        children = card
    else:
        return None
    found = (action_data(child, verb) for child in children)
    return next((data for data in found if data is not None), None)


@contextmanager
def running_server(
    workdir: Path,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[Server]:
    """A quiet `serve --simulate` in `workdir` with extra settings `env` and options `args`
    (on `port`, else a free one), and its store."""
    with serve_simulated(workdir, env=QUIET | (env or {}), args=args, port=port) as served:
        probe = StoreProbe(workdir / ".state" / "simulate.db")
        try:
            yield Server(served, probe)
        finally:
            probe.close()


def post_alert(server: Server, vm: str = "erp-app-03") -> None:
    """The demo estate's restore-point-limit alert for `vm`, accepted by the webhook."""
    answer = requests.post(server.base + "/api/alerts", json=demo_rp_limit_alert(vm), timeout=10)
    assert answer.status_code == 202, answer.text


def approve_last_card(server: Server) -> None:
    """The dev user approves the newest card's fix."""
    root = server.threads()[-1]["activities"][0]
    approve = action_data(root["attachments"], "approve")
    assert approve is not None, "the card offers an approval"
    assert server.click(root, "approve", approve) == 200


def runs(server: Server) -> list[dict[str, Any]]:
    return server.store.documents("runs")


def in_step(server: Server, step: str) -> bool:
    """Some run is running `step`, started and not yet ended."""
    last = {"step": step, "phase": "start"}
    return any(
        run["state"] == "running" and last.items() <= run["journal"][-1].items()
        for run in runs(server)
    )


def hold_next(server: Server, route: str, seconds: float) -> None:
    """The simulator holds the next request to `route` for `seconds`, then answers it."""
    sim = requests.get(server.base + "/dev/api/simulator", timeout=10).json()
    rule = {"route": route, "kind": "timeout", "hold_seconds": seconds, "times": 1}
    answer = requests.post(
        sim["base_url"] + "/_sim/faults", json={"rules": [rule]}, verify=sim["ca_path"], timeout=10
    )
    answer.raise_for_status()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `check` until it holds or `timeout` passes; the last answer is returned."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return check()
        time.sleep(0.05)
    return True
