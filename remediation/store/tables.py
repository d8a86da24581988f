"""The cloud store: Azure Table Storage (or Azurite) through azure-data-tables.

Entity layout, chosen to respect the service's limits:
- Table names are the prefix plus the store name with "_" spelt "01" (see
  service_table_suffix), because Tables allows only letters and digits.
- PartitionKey/RowKey are the partition and key with the characters Tables refuses
  (/ \\ # ? and control characters) escaped reversibly as `!xx`; `!` itself is escaped too.
- The document is compact ASCII JSON split over `doc_0..doc_{n-1}` (`doc_n` holds n): ASCII
  makes every 32,000-character chunk 64,000 bytes of UTF-16, under the 64 KiB property limit.
- Short top-level scalars are copied into `f_<field>` as tagged strings ("s:open", "n:3",
  "b:true", "z:") so `where` filters run on the server with the SDK's `parameters=`; the
  tags keep booleans apart from numbers and make 1 and 1.0 equal, as the contract says.
The base class re-checks every `where` on the decoded document, so server filtering is only
ever a narrowing step.

This module imports the SDK at the top; `remediation.store` imports it only when asked for a
Tables store, so the rest of the app stays light.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableEntity, TableServiceClient, UpdateMode

from .base import (
    InvalidData,
    Record,
    Store,
    StoreError,
    Where,
    address,
    check_address,
    check_table,
    decode_document,
    encode_document,
    exists_error,
    indexable,
    missing_error,
    stale_error,
)

CHUNK_CHARS = 32_000
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]{1,14}")
_UNSAFE = re.compile(r"[/\\#?!\x00-\x1f\x7f-\x9f]")
_ESCAPED = re.compile(r"!([0-9a-f]{2})")
_MAX_PAGE = 1000
# The webhooks wait on the store: a few quick retries, then StoreError and a 503 that the
# sender retries later, rather than azure-core's default ten with backoff up to two minutes.
CLIENT_RETRY = {
    "retry_total": 3,
    "retry_connect": 2,
    "retry_read": 2,
    "retry_status": 2,
    "retry_backoff_factor": 0.4,
    "retry_backoff_max": 4.0,
}


def escape_key(value: str) -> str:
    """Make a partition or key acceptable to Azure Tables, reversibly."""
    return _UNSAFE.sub(lambda m: f"!{ord(m.group()):02x}", value)


def unescape_key(value: str) -> str:
    """Inverse of escape_key."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)


def service_table_suffix(table: str) -> str:
    """Map a store table name onto the letters and digits Tables allows, injectively.

    "0" becomes "00" and "_" becomes "01", so "incident_keys" is "incident01keys" and can
    never meet "incidentkeys". A 24-character name needs at most 48, leaving room for the
    prefix within the 63-character limit.
    """
    return table.replace("0", "00").replace("_", "01")


def index_value(value: Any) -> str:
    """Tagged string form of a scalar; equal iff the contract's `same_value` says so."""
    if value is None:
        return "z:"
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, float) and value.is_integer():
        return f"n:{int(value)}"
    return f"n:{value!r}"


class TablesStore(Store):
    """Store backed by Azure Table Storage; one service table per store table."""

    def __init__(self, service: TableServiceClient, *, prefix: str = "remediation"):
        if not _PREFIX.fullmatch(prefix):
            raise InvalidData(f"table prefix {prefix!r} must be 2-15 letters or digits")
        self._service = service
        self._prefix = prefix
        self._tables: dict[str, TableClient] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_connection_string(cls, connection: str, *, prefix: str = "remediation") -> TablesStore:
        """A store for a storage connection string (Azurite's works too)."""
        try:
            service = TableServiceClient.from_connection_string(connection, **CLIENT_RETRY)
        except ValueError as error:
            raise InvalidData(f"bad Tables connection string: {error}") from None
        return cls(service, prefix=prefix)

    @classmethod
    def from_endpoint(
        cls,
        endpoint: str,
        credential: TokenCredential,
        *,
        prefix: str = "remediation",
        ca_bundle: str | None = None,
    ) -> TablesStore:
        """A store for an account URL with an Entra credential (managed identity in Azure);
        `ca_bundle` trusts a local stand-in's certificate."""
        options: dict[str, Any] = dict(CLIENT_RETRY)
        if ca_bundle:
            options["connection_verify"] = ca_bundle
        try:
            service = TableServiceClient(endpoint=endpoint, credential=credential, **options)
        except ValueError as error:
            raise InvalidData(f"bad Tables endpoint {endpoint!r}: {error}") from None
        return cls(service, prefix=prefix)

    def _table(self, table: str) -> TableClient:
        """The client of a table, creating the service table on first use."""
        check_table(table)
        with self._lock:
            client = self._tables.get(table)
            if client is None:
                with _translated(f"table {table}"):
                    client = self._service.create_table_if_not_exists(
                        self._prefix + service_table_suffix(table)
                    )
                self._tables[table] = client
        return client

    def get(self, table: str, partition: str, key: str) -> Record | None:
        check_address(table, partition, key)
        client = self._table(table)
        with _translated(address(table, partition, key)):
            try:
                entity = client.get_entity(escape_key(partition), escape_key(key))
            except ResourceNotFoundError:
                return None
        return _record(table, entity)

    def insert(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> Record:
        check_address(table, partition, key)
        entity, text = _entity(partition, key, data)
        client = self._table(table)
        with _translated(address(table, partition, key)):
            try:
                meta = client.create_entity(entity)
            except ResourceExistsError:
                raise exists_error(table, partition, key) from None
        return Record(table, partition, key, decode_document(text), meta["etag"])

    def replace(
        self, table: str, partition: str, key: str, data: Mapping[str, Any], *, etag: str
    ) -> Record:
        check_address(table, partition, key)
        entity, text = _entity(partition, key, data)
        client = self._table(table)
        with _translated(address(table, partition, key)):
            try:
                meta = client.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            except ResourceModifiedError:
                raise stale_error(table, partition, key) from None
            except ResourceNotFoundError:
                raise missing_error(table, partition, key) from None
        return Record(table, partition, key, decode_document(text), meta["etag"])

    def upsert(self, table: str, partition: str, key: str, data: Mapping[str, Any]) -> Record:
        check_address(table, partition, key)
        entity, text = _entity(partition, key, data)
        client = self._table(table)
        with _translated(address(table, partition, key)):
            meta = client.upsert_entity(entity, mode=UpdateMode.REPLACE)
        return Record(table, partition, key, decode_document(text), meta["etag"])

    def delete(self, table: str, partition: str, key: str, *, etag: str | None = None) -> None:
        check_address(table, partition, key)
        client = self._table(table)
        condition = (
            MatchConditions.Unconditionally if etag is None else MatchConditions.IfNotModified
        )
        with _translated(address(table, partition, key)):
            try:
                # The SDK already treats a missing entity (404) as deleted.
                client.delete_entity(
                    escape_key(partition), escape_key(key), etag=etag, match_condition=condition
                )
            except ResourceModifiedError:
                raise stale_error(table, partition, key) from None

    def _scan(
        self, table: str, partition: str | None, where: Where, limit_hint: int | None
    ) -> Iterator[Record]:
        client = self._table(table)
        clauses: list[str] = []
        parameters: dict[str, str] = {}
        if partition is not None:
            clauses.append("PartitionKey eq @pk")
            parameters["pk"] = escape_key(partition)
        exact = True
        for number, (field, value) in enumerate(where.items()):
            if indexable(field, value):
                clauses.append(f"f_{field} eq @p{number}")
                parameters[f"p{number}"] = index_value(value)
            else:
                exact = False
        page = min(limit_hint, _MAX_PAGE) if exact and limit_hint else None
        with _translated(f"query of {table}"):
            if clauses:
                entities = client.query_entities(
                    " and ".join(clauses), parameters=parameters, results_per_page=page
                )
            else:
                entities = client.list_entities(results_per_page=page)
            for entity in entities:
                yield _record(table, entity)

    def close(self) -> None:
        with self._lock:
            self._tables.clear()
            self._service.close()


def _entity(partition: str, key: str, data: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The entity that stores a document, and the document's JSON text."""
    text = encode_document(data)
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
    entity: dict[str, Any] = {
        "PartitionKey": escape_key(partition),
        "RowKey": escape_key(key),
        "doc_n": len(chunks),
    }
    entity.update((f"doc_{i}", chunk) for i, chunk in enumerate(chunks))
    entity.update(
        (f"f_{field}", index_value(value))
        for field, value in data.items()
        if indexable(field, value)
    )
    return entity, text


def _record(table: str, entity: TableEntity) -> Record:
    """Rebuild a record from a stored entity."""
    try:
        text = "".join(entity[f"doc_{i}"] for i in range(entity["doc_n"]))
    except KeyError as error:
        raise StoreError(f"entity in {table} is not a stored document: {error}") from None
    etag = entity.metadata["etag"]
    if not etag:
        raise StoreError(f"entity in {table} came without its etag")
    return Record(
        table,
        unescape_key(entity["PartitionKey"]),
        unescape_key(entity["RowKey"]),
        decode_document(text),
        etag,
    )


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn SDK and transport failures left unhandled into StoreError naming the target."""
    try:
        yield
    except AzureError as error:
        raise StoreError(f"Azure Tables failed on {what}: {error}") from error
