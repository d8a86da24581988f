"""SQLite specifics: several processes sharing one file, and persistence."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from remediation.store import SqliteStore, Unavailable


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


def _fill(store: SqliteStore, count: int) -> None:
    for n in range(count):
        store.insert("seen", "sig", f"k{n}", {"text": "x" * 3000, "n": n})


def test_background_checkpoints_keep_commits_off_the_disk_copy(tmp_path: Path) -> None:
    """With checkpoints in the background, no commit copies the log into the file (the
    stall a webhook would wait on); the thread's last checkpoint at close does, losing nothing."""
    path = tmp_path / "store.db"
    store = SqliteStore(path)
    store.checkpoint_in_background(every=3600)
    _fill(store, 1500)  # ~1,500 pages of log: SQLite alone would have checkpointed at 1,000
    assert path.stat().st_size < 64 * 1024
    store.close()
    assert path.stat().st_size > 1500 * 3000
    with SqliteStore(path) as reopened:
        assert [r.data["n"] for r in reopened.query("seen", "sig")] == sorted(
            range(1500), key=lambda n: f"k{n}"
        )


def test_background_checkpoints_run_on_their_own(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        store.checkpoint_in_background(every=0.05)
        _fill(store, 300)
        deadline = time.monotonic() + 10
        while path.stat().st_size < 300 * 3000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size > 300 * 3000
        assert store.get("seen", "sig", "k299").data["n"] == 299


def test_a_file_made_with_the_earlier_without_rowid_layout_still_works(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as old:
        old.execute(
            "CREATE TABLE records (tbl TEXT NOT NULL, part TEXT NOT NULL, key TEXT NOT NULL, "
            "data TEXT NOT NULL, etag TEXT NOT NULL, PRIMARY KEY (tbl, part, key)) WITHOUT ROWID"
        )
        old.execute("INSERT INTO records VALUES ('seen', 'p', 'a', '{\"n\": 1}', 'e1')")
        old.commit()
    with SqliteStore(path) as store:
        assert store.get("seen", "p", "a").data == {"n": 1}
        assert store.claim("seen", "p", "b", {"n": 2}) and not store.claim("seen", "p", "a", {})
        assert [r.key for r in store.query("seen", "p")] == ["a", "b"]


@contextmanager
def _write_lock_held(path: Path, seconds: float) -> Iterator[None]:
    """Another process's write transaction (a second connection is the same to SQLite)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(seconds, lambda: other.execute("COMMIT"))
    releaser.start()
    try:
        yield
    finally:
        releaser.join()
        other.close()


def test_an_async_claim_waits_out_a_locked_database_without_blocking_the_loop(tmp_path):
    path = tmp_path / "store.db"
    store = SqliteStore(path)

    async def claim_while_ticking() -> tuple[bool, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        claimed = await store.aclaim("seen", "p", "k", {"n": 1})
        ticking.cancel()
        return claimed, ticks

    with _write_lock_held(path, 0.3):
        started = time.monotonic()
        claimed, ticks = asyncio.run(claim_while_ticking())
    assert claimed and time.monotonic() - started >= 0.25
    assert ticks >= 20, "the loop kept serving while the claim waited"
    assert store.get("seen", "p", "k").data == {"n": 1}
    store.close()


def test_a_database_locked_past_the_timeout_is_reported_unavailable(tmp_path):
    path = tmp_path / "store.db"
    store = SqliteStore(path, timeout=0.1)
    with _write_lock_held(path, 0.4):
        with pytest.raises(Unavailable, match="locked"):
            store.insert("seen", "p", "k", {"n": 1})
        with pytest.raises(Unavailable, match="locked"):
            asyncio.run(store.aclaim("seen", "p", "k", {"n": 1}))
    assert store.claim("seen", "p", "k", {"n": 2}), "nothing was half-written"
    store.close()
