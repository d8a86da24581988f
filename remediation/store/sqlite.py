"""The embedded store: one SQLite file (or memory), safe across threads and processes.

One connection guarded by a lock serves the threads of a process (an in-memory database only
exists on its own connection); WAL mode lets several processes share a file, and a statement that
finds the database locked by another process waits its turn here, asynchronously on the event
loop, rather than in SQLite's busy handler.
Every write sets a fresh random etag, so a record deleted and re-created never matches an etag
read before (a per-row counter would restart and could).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from .base import (
    Record,
    Store,
    Unavailable,
    Where,
    check_address,
    decode_document,
    encode_document,
    exists_error,
    indexable,
    missing_error,
    stale_error,
)

# Documents run to kilobytes, and SQLite keeps WITHOUT ROWID for small rows: a rowid table
# with a unique index inserts them about a third faster. (Files made with the earlier
# WITHOUT ROWID layout keep it; both answer the same statements.)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    tbl TEXT NOT NULL,
    part TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    etag TEXT NOT NULL,
    UNIQUE (tbl, part, key)
)
"""

_INT64 = range(-(2**63), 2**63)


class _Outcome(Enum):
    """What an attempt answers instead of its work's result."""

    BUSY = "busy"  # another writer holds the database: wait, then try again
    EXISTS = "exists"  # the insert found its key taken


_BUSY: Final = _Outcome.BUSY
_EXISTS: Final = _Outcome.EXISTS
_YIELD_AFTER = 0.0004  # an async wait longer than this gives the loop back
T = TypeVar("T")
log = logging.getLogger(__name__)


class SqliteStore(Store):
    """Store backed by the standard library's sqlite3."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 30.0):
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._path, self._in_memory, self._timeout = path, in_memory, timeout
        self._checkpoints: _Checkpointer | None = None
        self._lock = threading.Lock()
        # No busy timeout in SQLite: its handler sleeps 1 ms, then 2, 5, 10... while another
        # process writes, which on the event loop stalls every request. `_run` waits instead.
        self._conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        if not in_memory:
            self._execute("PRAGMA journal_mode=WAL")
            self._execute("PRAGMA synchronous=NORMAL")
        self._execute(_SCHEMA)

    # -- one statement at a time, waiting out other processes' writes ----------------------

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the connection, retried while another process holds the write lock."""
        for delay in self._waits():
            outcome = self._attempt(work, blocking=True)
            if outcome is not _BUSY:
                return outcome
            time.sleep(delay)
        raise self._still_locked()

    async def _arun(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`_run` for the event loop: a busy database or a thread holding the connection
        makes it wait with asyncio.sleep, so the loop serves other requests meanwhile. The
        first 0.3 ms are waited inline: another writer is usually done by then, and a yield
        puts this request behind every other one the loop has ready (milliseconds)."""
        for delay in self._waits():
            outcome = self._attempt(work, blocking=False)
            if outcome is not _BUSY:
                return outcome
            if delay < _YIELD_AFTER:
                time.sleep(delay)
            else:
                await asyncio.sleep(delay)
        raise self._still_locked()

    def _attempt(
        self, work: Callable[[sqlite3.Connection], T], *, blocking: bool
    ) -> T | Literal[_Outcome.BUSY]:
        if not self._lock.acquire(blocking):
            return _BUSY
        try:
            return work(self._conn)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                return _BUSY
            raise
        finally:
            self._lock.release()

    def _waits(self) -> Iterator[float]:
        """Pauses between attempts: 0.1 ms doubling to 1 ms, for `timeout` seconds."""
        deadline, delay = time.monotonic() + self._timeout, 0.0001
        while time.monotonic() < deadline:
            yield delay
            delay = min(delay * 2, 0.001)

    def _still_locked(self) -> Unavailable:
        return Unavailable(f"the database stayed locked for {self._timeout:g} s")

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._run(lambda conn: conn.execute(sql, params))

    # -- records -------------------------------------------------------------------------

    def get(self, table: str, partition: str, key: str) -> Record | None:
        check_address(table, partition, key)
        return _record(table, partition, key, self._run(_get_row(table, partition, key)))

    async def aget(self, table: str, partition: str, key: str) -> Record | None:
        check_address(table, partition, key)
        return _record(table, partition, key, await self._arun(_get_row(table, partition, key)))

    def insert(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> Record:
        check_address(table, partition, key)
        text, etag = encode_document(data), secrets.token_hex(8)
        if self._run(_insert_row(table, partition, key, text, etag)) is _EXISTS:
            raise exists_error(table, partition, key)
        return Record(table, partition, key, decode_document(text), etag)

    def claim(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> bool:
        """`insert` without building the Record that a claim throws away."""
        return self._run(_claim_row(table, partition, key, data)) is not _EXISTS

    async def aclaim(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> bool:
        return await self._arun(_claim_row(table, partition, key, data)) is not _EXISTS

    def replace(
        self, table: str, partition: str, key: str, data: Mapping[str, Any], *, etag: str
    ) -> Record:
        check_address(table, partition, key)
        text, new_etag = encode_document(data), secrets.token_hex(8)
        cursor = self._execute(
            "UPDATE records SET data = ?, etag = ? WHERE tbl = ? AND part = ? AND key = ? "
            "AND etag = ?",
            (text, new_etag, table, partition, key, etag),
        )
        if cursor.rowcount == 0:
            if self.get(table, partition, key) is None:
                raise missing_error(table, partition, key)
            raise stale_error(table, partition, key)
        return Record(table, partition, key, decode_document(text), new_etag)

    def upsert(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> Record:
        check_address(table, partition, key)
        text, etag = encode_document(data), secrets.token_hex(8)
        self._execute(
            "INSERT INTO records (tbl, part, key, data, etag) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (tbl, part, key) DO UPDATE SET data = excluded.data, etag = excluded.etag",
            (table, partition, key, text, etag),
        )
        return Record(table, partition, key, decode_document(text), etag)

    def delete(self, table: str, partition: str, key: str, *, etag: str | None = None) -> None:
        check_address(table, partition, key)
        sql = "DELETE FROM records WHERE tbl = ? AND part = ? AND key = ?"
        params: tuple[Any, ...] = (table, partition, key)
        if etag is None:
            self._execute(sql, params)
            return
        deleted = self._execute(sql + " AND etag = ?", (*params, etag)).rowcount
        if not deleted and self.get(table, partition, key) is not None:
            raise stale_error(table, partition, key)

    def _scan(
        self, table: str, partition: str | None, where: Where, limit_hint: int | None
    ) -> Iterator[Record]:
        sql = ["SELECT part, key, data, etag FROM records WHERE tbl = ?"]
        params: list[Any] = [table]
        if partition is not None:
            sql.append("AND part = ?")
            params.append(partition)
        for field, value in where.items():
            if _prefilterable(field, value):
                sql.append("AND json_extract(data, ?) = ?")
                params.extend((f"$.{field}", value))
        sql.append("ORDER BY part, key")
        rows = self._run(lambda conn: conn.execute(" ".join(sql), params).fetchall())
        for part, key, text, etag in rows:
            yield Record(table, part, key, decode_document(text), etag)

    def checkpoint_in_background(self, every: float = 1.0) -> None:
        """Take WAL checkpoints off the writers' path.

        SQLite otherwise checkpoints inside the commit that takes the log past 1,000 pages,
        and that commit waits for the copy and its fsync (tens of milliseconds): a webhook
        whose claim lands there answers late. A thread with its own connection checkpoints
        passively every `every` seconds instead, which never blocks a writer.
        """
        if self._in_memory or self._checkpoints is not None:
            return
        self._execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoints = _Checkpointer(self._path, every)

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
        with self._lock:
            self._conn.close()


class _Checkpointer(threading.Thread):
    def __init__(self, path: str | os.PathLike[str], every: float) -> None:
        super().__init__(name="sqlite-checkpoints", daemon=True)
        self._path, self._every = path, every
        self._stopping = threading.Event()
        self.start()

    def run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            while not self._stopping.wait(self._every):
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:  # the next round tries again; writers are unaffected
            log.warning("WAL checkpoint failed: %s", error)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)


def _get_row(table: str, partition: str, key: str) -> Callable[[sqlite3.Connection], Any]:
    def work(conn: sqlite3.Connection) -> tuple[str, str] | None:
        return conn.execute(
            "SELECT data, etag FROM records WHERE tbl = ? AND part = ? AND key = ?",
            (table, partition, key),
        ).fetchone()

    return work


def _record(table: str, partition: str, key: str, row: tuple[str, str] | None) -> Record | None:
    return None if row is None else Record(table, partition, key, decode_document(row[0]), row[1])


def _insert_row(
    table: str, partition: str, key: str, text: str, etag: str
) -> Callable[[sqlite3.Connection], _Outcome | None]:
    """The insert of an encoded document; it answers _EXISTS when the key is taken."""

    def work(conn: sqlite3.Connection) -> _Outcome | None:
        try:
            conn.execute(
                "INSERT INTO records (tbl, part, key, data, etag) VALUES (?, ?, ?, ?, ?)",
                (table, partition, key, text, etag),
            )
        except sqlite3.IntegrityError:
            return _EXISTS
        return None

    return work


def _claim_row(
    table: str, partition: str, key: str, data: Mapping[str, Any]
) -> Callable[[sqlite3.Connection], _Outcome | None]:
    """The checked insert of a claim: _EXISTS when someone else holds the key."""
    check_address(table, partition, key)
    return _insert_row(table, partition, key, encode_document(data), secrets.token_hex(8))


def _prefilterable(field: str, value: Any) -> bool:
    """SQL equality on json_extract keeps every match for these (bools compare as 0/1)."""
    if value is None or not indexable(field, value):
        return False
    return not isinstance(value, int) or value in _INT64
