"""The store contract shared by every backend: records, errors, validation and helpers.

Backends implement the primitive operations; everything built on top of them (claim, update,
append keys, filter semantics, document limits) lives here once, so SQLite and Azure Tables
behave the same way for the domain code.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

MAX_KEY_BYTES = 256
MAX_DOCUMENT_CHARS = 256 * 1024
MAX_FIELDS = 200
MAX_INDEXED_STRING = 256

_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class StoreError(Exception):
    """Base class of every error the store raises."""


class AlreadyExists(StoreError):
    """An insert found a record under the same table, partition and key."""


class Conflict(StoreError):
    """The record changed since it was read (stale etag), or retries ran out."""


class NotFound(StoreError):
    """The record the operation needs does not exist."""


class Unavailable(StoreError):
    """The backend could not serve the operation in time (a database locked too long)."""


class InvalidData(StoreError, ValueError):
    """A table name, key or document breaks the store's rules (the message says which)."""


@dataclass(frozen=True)
class Record:
    """One stored document; `etag` is opaque and changes on every write."""

    table: str
    partition: str
    key: str
    data: dict[str, Any]
    etag: str


Where = Mapping[str, Any]
Updater = Callable[[dict[str, Any] | None], Mapping[str, Any]]
Changer = Callable[[dict[str, Any]], Mapping[str, Any]]


class Store(ABC):
    """A small document store with optimistic concurrency.

    Records live in a table, grouped by partition and identified by key. Queries return
    records ordered by partition then key (keys that need escaping in Azure Tables, see
    tables.py, may sort differently there; generated log keys never do).
    """

    @abstractmethod
    def get(self, table: str, partition: str, key: str) -> Record | None:
        """Return the record, or None when it does not exist."""

    @abstractmethod
    def insert(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> Record:
        """Create a record; raise AlreadyExists when the key is taken."""

    @abstractmethod
    def replace(
        self, table: str, partition: str, key: str, data: Mapping[str, Any], *, etag: str
    ) -> Record:
        """Overwrite a record if it still has `etag`; raise Conflict or NotFound otherwise."""

    @abstractmethod
    def upsert(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> Record:
        """Create or overwrite a record unconditionally."""

    @abstractmethod
    def delete(self, table: str, partition: str, key: str, *, etag: str | None = None) -> None:
        """Delete a record; a missing record is not an error, a stale etag raises Conflict."""

    @abstractmethod
    def _scan(
        self, table: str, partition: str | None, where: Where, limit_hint: int | None
    ) -> Iterator[Record]:
        """Yield records in order; may pre-filter on `where` but must not drop a match.

        `limit_hint` is the caller's limit, useful for paging when the pre-filter is exact.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    def query(
        self,
        table: str,
        partition: str | None = None,
        *,
        where: Where | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Records of a table (or one partition) whose top-level fields equal `where`."""
        check_table(table)
        if partition is not None:
            check_key(partition, "partition")
        conditions = dict(where or {})
        for field in conditions:
            if not isinstance(field, str):
                raise InvalidData(f"where field names must be strings, got {field!r}")
        if limit is not None and limit < 1:
            raise InvalidData(f"limit must be a positive integer, got {limit!r}")
        matches = (
            r
            for r in self._scan(table, partition, conditions, limit)
            if matches_where(r.data, conditions)
        )
        return list(islice(matches, limit))

    def append(self, table: str, partition: str, data: Mapping[str, Any]) -> Record:
        """Add an entry to an append-only log under a new time-ordered key; never overwrites."""
        for _ in range(5):
            try:
                return self.insert(table, partition, new_log_key(), data)
            except AlreadyExists:
                continue
        raise Conflict(f"could not find a free log key in {table}/{partition}")

    def claim(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> bool:
        """Record `key` as taken; True for exactly one caller, False when it already existed."""
        try:
            self.insert(table, partition, key, data)
        except AlreadyExists:
            return False
        return True

    # Async twins for the webhooks' accept path, which runs on the event loop. By default
    # the blocking call runs on a worker thread; a backend whose call is shorter than that
    # hop (a local file) or that has an async client overrides them.

    async def aget(self, table: str, partition: str, key: str) -> Record | None:
        return await asyncio.to_thread(self.get, table, partition, key)

    async def aclaim(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> bool:
        return await asyncio.to_thread(self.claim, table, partition, key, data)

    def update(
        self, table: str, partition: str, key: str, fn: Updater, *, retries: int = 25
    ) -> Record:
        """Read-modify-write: store fn(current data or None) with etag checks, retrying races.

        `fn` gets a private copy of the data (None when the record does not exist, in which
        case its result is inserted) and may run several times; raise inside it to abort.
        """
        for attempt in range(retries + 1):
            current = self.get(table, partition, key)
            new = fn(None if current is None else current.data)
            try:
                if current is None:
                    return self.insert(table, partition, key, new)
                return self.replace(table, partition, key, new, etag=current.etag)
            except (Conflict, AlreadyExists, NotFound):
                if attempt == retries:
                    break
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise Conflict(f"{address(table, partition, key)} kept changing after {retries} retries")

    def change(
        self, table: str, partition: str, key: str, fn: Changer, *, retries: int = 25
    ) -> Record:
        """`update` of a record that must exist: raises NotFound, inserting nothing, when it
        does not, so `fn` always gets the data."""

        def existing(data: dict[str, Any] | None) -> Mapping[str, Any]:
            if data is None:
                raise missing_error(table, partition, key)
            return fn(data)

        return self.update(table, partition, key, existing, retries=retries)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def address(table: str, partition: str, key: str) -> str:
    """How errors name a record."""
    return f"{table}/{partition}/{key}"


def exists_error(table: str, partition: str, key: str) -> AlreadyExists:
    return AlreadyExists(f"{address(table, partition, key)} already exists")


def stale_error(table: str, partition: str, key: str) -> Conflict:
    return Conflict(f"{address(table, partition, key)} changed since it was read (stale etag)")


def missing_error(table: str, partition: str, key: str) -> NotFound:
    return NotFound(f"{address(table, partition, key)} does not exist")


def check_table(table: str) -> None:
    """Table names are short lowercase identifiers that every backend can map to its own."""
    if not isinstance(table, str) or not _TABLE_NAME.fullmatch(table):
        raise InvalidData(
            f"table name {table!r} must be 1-24 lowercase letters, digits or underscores, "
            "starting with a letter"
        )


def check_key(value: str, what: str = "key") -> None:
    """Partitions and keys are non-empty strings of at most MAX_KEY_BYTES UTF-8 bytes."""
    if not isinstance(value, str) or not value:
        raise InvalidData(f"{what} must be a non-empty string, got {value!r}")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise InvalidData(f"{what} {value!r} is not valid Unicode") from error
    if size > MAX_KEY_BYTES:
        raise InvalidData(f"{what} is {size} bytes long; the limit is {MAX_KEY_BYTES}")


def check_address(table: str, partition: str, key: str) -> None:
    """Validate a full record address."""
    check_table(table)
    check_key(partition, "partition")
    check_key(key, "key")


def encode_document(data: Mapping[str, Any]) -> str:
    """Serialise a document to compact ASCII JSON, enforcing the limits of every backend."""
    if not isinstance(data, Mapping):
        raise InvalidData(f"a document must be a mapping, got {type(data).__name__}")
    if len(data) > MAX_FIELDS:
        raise InvalidData(f"a document may have at most {MAX_FIELDS} top-level fields")
    if not all(isinstance(field, str) for field in data):
        raise InvalidData("document field names must be strings")
    try:
        text = json.dumps(dict(data), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise InvalidData(f"document is not plain JSON: {error}") from error
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InvalidData(
            f"document is {len(text)} characters as JSON; the limit is {MAX_DOCUMENT_CHARS}"
        )
    return text


def decode_document(text: str) -> dict[str, Any]:
    """Parse a stored document."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise StoreError("stored document is not a JSON object")
    return data


def same_value(a: Any, b: Any) -> bool:
    """Equality for `where`: Python's, except that booleans only equal booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def matches_where(data: Mapping[str, Any], where: Where) -> bool:
    """True when every `where` field is present in `data` with an equal value."""
    return all(field in data and same_value(data[field], value) for field, value in where.items())


def indexable(field: str, value: Any) -> bool:
    """Whether a backend may index or pre-filter on this top-level field and value."""
    if not _FIELD_NAME.fullmatch(field):
        return False
    if isinstance(value, str):
        return len(value) <= MAX_INDEXED_STRING
    return value is None or isinstance(value, bool | int | float)


_clock_lock = threading.Lock()
_last_ns = 0


def new_log_key() -> str:
    """A unique key that sorts by creation time (strictly increasing within a process)."""
    global _last_ns
    with _clock_lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        stamp = _last_ns
    return f"{stamp:020d}-{secrets.token_hex(4)}"
