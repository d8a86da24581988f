"""One table partition of documents of one shape, as the module that owns the table sees it.

The store speaks JSON objects and checks nothing more; the owner of a table writes one shape
(a TypedDict of remediation.records), so reading a document back as that shape is the one
assumption made, here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast

from .base import Store, missing_error

D = TypeVar("D", bound=Mapping[str, Any])


class Documents(Generic[D]):
    def __init__(self, store: Store, table: str, partition: str) -> None:
        self.store = store
        self.table = table
        self.partition = partition

    def get(self, key: str) -> D | None:
        record = self.store.get(self.table, self.partition, key)
        return None if record is None else cast(D, record.data)

    def load(self, key: str) -> D:
        """The document, which must exist: NotFound otherwise."""
        found = self.get(key)
        if found is None:
            raise missing_error(self.table, self.partition, key)
        return found

    def read(self, key: str) -> tuple[D, str] | None:
        """The document and its etag, for a `replace` that must not overwrite a change."""
        record = self.store.get(self.table, self.partition, key)
        return None if record is None else (cast(D, record.data), record.etag)

    def all(self, **where: Any) -> list[D]:
        """Every document, or those whose top-level fields equal `where`."""
        found = self.store.query(self.table, self.partition, where=where or None)
        return [cast(D, r.data) for r in found]

    def insert(self, key: str, doc: D) -> None:
        self.store.insert(self.table, self.partition, key, doc)

    def claim(self, key: str, doc: D) -> bool:
        """Store `doc` unless `key` is taken; True for exactly one caller."""
        return self.store.claim(self.table, self.partition, key, doc)

    def replace(self, key: str, doc: D, etag: str) -> str:
        """Overwrite the document if it still has `etag` (Conflict otherwise); the new etag."""
        return self.store.replace(self.table, self.partition, key, doc, etag=etag).etag

    def update(self, key: str, fn: Callable[[D], D]) -> D:
        """Read-modify-write of an existing document (Store.change): NotFound when missing."""
        record = self.store.change(self.table, self.partition, key, lambda data: fn(cast(D, data)))
        return cast(D, record.data)
