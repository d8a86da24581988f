"""open_store: choosing and configuring a backend from settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from remediation.store import InvalidData, SqliteStore, open_store

REPO = Path(__file__).resolve().parents[2]


def test_sqlite_is_the_default_and_uses_the_configured_path(tmp_path: Path) -> None:
    path = tmp_path / "state" / "r.db"
    with open_store({"STORE_SQLITE_PATH": str(path)}) as store:
        assert isinstance(store, SqliteStore)
        store.insert("runs", "p", "k", {})
    assert path.is_file()


def test_the_default_path_is_under_dot_state(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store({"STORE_KIND": "SQLite"}) as store:
        store.insert("runs", "p", "k", {})
    assert (tmp_path / ".state" / "remediation.db").is_file()


def test_settings_default_to_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("STORE_KIND", "sqlite")
    monkeypatch.setenv("STORE_SQLITE_PATH", str(tmp_path / "env.db"))
    with open_store() as store:
        store.insert("runs", "p", "k", {})
    assert (tmp_path / "env.db").is_file()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"STORE_KIND": "cosmos"}, "STORE_KIND"),
        ({"STORE_KIND": "tables"}, "STORE_TABLES_CONNECTION"),
        (
            {"STORE_KIND": "tables", "STORE_TABLES_ENDPOINT": "https://a.table.core.windows.net"},
            "credential",
        ),
    ],
)
def test_incomplete_settings_are_rejected_clearly(settings: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        open_store(settings)


def test_an_endpoint_with_a_credential_opens_a_tables_store() -> None:
    from azure.core.credentials import AccessToken

    from remediation.store.tables import TablesStore

    class Credential:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken("token", 0)

    settings = {"STORE_KIND": "tables", "STORE_TABLES_ENDPOINT": "https://a.table.core.windows.net"}
    with open_store(settings, credential=Credential()) as store:
        assert isinstance(store, TablesStore)
    with pytest.raises(InvalidData, match="endpoint"):
        open_store({**settings, "STORE_TABLES_ENDPOINT": "https://"}, credential=Credential())


@pytest.mark.azurite
def test_a_connection_string_opens_a_working_tables_store(azurite_connection: str) -> None:
    settings = {
        "STORE_KIND": "tables",
        "STORE_TABLES_CONNECTION": azurite_connection,
        "STORE_TABLE_PREFIX": "openstore",
    }
    with open_store(settings) as store:
        assert store.claim("seen", "p", "k", {})
        assert not store.claim("seen", "p", "k", {})


def test_importing_the_store_does_not_load_the_azure_sdk() -> None:
    code = "import sys, remediation.store; print(any(m.startswith('azure') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
