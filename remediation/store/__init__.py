"""Document store with optimistic concurrency: SQLite embedded, Azure Tables in the cloud.

Domain code depends on `Store` only; `open_store` picks the backend from settings:
STORE_KIND (sqlite | tables, default sqlite), STORE_SQLITE_PATH (default .state/remediation.db),
STORE_TABLES_CONNECTION (a connection string) or STORE_TABLES_ENDPOINT (an account URL, used
with the credential passed in, trusting ARM_CA_BUNDLE when set), STORE_TABLE_PREFIX (default
"remediation").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .base import (
    AlreadyExists,
    Conflict,
    InvalidData,
    NotFound,
    Record,
    Store,
    StoreError,
    Unavailable,
)
from .documents import Documents
from .sqlite import SqliteStore

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

__all__ = [
    "AlreadyExists",
    "Conflict",
    "Documents",
    "InvalidData",
    "NotFound",
    "Record",
    "SqliteStore",
    "Store",
    "StoreError",
    "Unavailable",
    "open_store",
]

DEFAULT_SQLITE_PATH = ".state/remediation.db"


def open_store(
    settings: Mapping[str, str] | None = None, *, credential: TokenCredential | None = None
) -> Store:
    """Open the store the settings (os.environ by default) describe."""
    settings = os.environ if settings is None else settings
    kind = settings.get("STORE_KIND", "sqlite").strip().lower() or "sqlite"
    if kind == "sqlite":
        return SqliteStore(settings.get("STORE_SQLITE_PATH") or DEFAULT_SQLITE_PATH)
    if kind != "tables":
        raise InvalidData(f"STORE_KIND must be 'sqlite' or 'tables', got {kind!r}")
    from .tables import TablesStore  # the Azure SDK loads only when this backend is used

    prefix = settings.get("STORE_TABLE_PREFIX") or "remediation"
    connection = settings.get("STORE_TABLES_CONNECTION")
    endpoint = settings.get("STORE_TABLES_ENDPOINT")
    if connection:
        return TablesStore.from_connection_string(connection, prefix=prefix)
    if endpoint and credential is not None:
        ca_bundle = settings.get("ARM_CA_BUNDLE") or None
        return TablesStore.from_endpoint(endpoint, credential, prefix=prefix, ca_bundle=ca_bundle)
    if endpoint:
        raise InvalidData("STORE_TABLES_ENDPOINT needs a credential passed to open_store")
    raise InvalidData("STORE_KIND=tables needs STORE_TABLES_CONNECTION or STORE_TABLES_ENDPOINT")
