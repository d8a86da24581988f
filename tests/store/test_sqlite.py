"""SQLite specifics: several processes sharing one file, and persistence."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from remediation.store import SqliteStore


def _bump(data: dict[str, Any] | None) -> dict[str, Any]:
    return {"count": (data or {"count": 0})["count"] + 1}


def _worker(path: str, worker: int, start: Any) -> None:
    start.wait()
    with SqliteStore(path) as store:
        for n in range(30):
            store.update("switches", "counters", "c", _bump)
            store.claim("seen", "sig", str(n), {"by": worker})
            store.append("audit", "day", {"worker": worker, "n": n})


def test_several_processes_share_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_worker, args=(path, w, start)) for w in range(3)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    with SqliteStore(path) as store:
        assert store.get("switches", "counters", "c").data == {"count": 90}
        assert len(store.query("seen", "sig")) == 30
        audit = store.query("audit", "day")
        assert len(audit) == 90
        for worker in range(3):
            assert [r.data["n"] for r in audit if r.data["worker"] == worker] == list(range(30))


def test_records_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "store.db"
    with SqliteStore(path) as store:
        record = store.insert("incidents", "p", "k", {"state": "open"})
    with SqliteStore(path) as store:
        assert store.get("incidents", "p", "k") == record
