"""Fixtures: the `store` fixture runs the contract suite over every backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from remediation.store import SqliteStore, Store

from .azurite import AzuriteUnavailable, start_azurite


@pytest.fixture(scope="session")
def azurite_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Azurite Table service for the whole session, stopped by PID at the end."""
    try:
        connection, stop = start_azurite(tmp_path_factory.mktemp("azurite"))
    except AzuriteUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield connection
    finally:
        stop()


def tables_store(connection: str) -> Store:
    """A Tables store whose tables no other test sees (a fresh prefix)."""
    from remediation.store.tables import TablesStore

    return TablesStore.from_connection_string(connection, prefix="t" + uuid.uuid4().hex[:12])


@pytest.fixture(
    params=["sqlite-file", "sqlite-memory", pytest.param("tables", marks=pytest.mark.azurite)]
)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite-file":
        opened: Store = SqliteStore(tmp_path / "state" / "store.db")
    elif request.param == "sqlite-memory":
        opened = SqliteStore(":memory:")
    else:
        opened = tables_store(request.getfixturevalue("azurite_connection"))
    with opened:
        yield opened
