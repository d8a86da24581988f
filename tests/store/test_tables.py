"""Azure Tables specifics: key escaping, table names, entity layout, errors from the SDK."""

from __future__ import annotations

import pytest
from azure.data.tables import TableServiceClient
from hypothesis import given
from hypothesis import strategies as st

from remediation.store import InvalidData, StoreError
from remediation.store.tables import (
    CHUNK_CHARS,
    TablesStore,
    escape_key,
    service_table_suffix,
    unescape_key,
)

from .azurite import free_port

FORBIDDEN = set("/\\#?") | {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]}


@given(st.text())
def test_escaped_keys_round_trip_and_avoid_forbidden_characters(text: str) -> None:
    escaped = escape_key(text)
    assert unescape_key(escaped) == text
    assert not FORBIDDEN & set(escaped)


@given(
    st.from_regex(r"[a-z][a-z0-9_]{0,23}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_]{0,23}", fullmatch=True),
)
def test_table_name_mapping_is_injective_and_alphanumeric(a: str, b: str) -> None:
    assert service_table_suffix(a).isalnum()
    assert len(service_table_suffix(a)) <= 48
    assert (service_table_suffix(a) == service_table_suffix(b)) == (a == b)


@pytest.mark.parametrize("prefix", ["", "r", "re-mediation", "9abc", "p" * 16])
def test_bad_prefixes_are_rejected(prefix: str) -> None:
    service = TableServiceClient.from_connection_string("UseDevelopmentStorage=true")
    with pytest.raises(InvalidData, match="prefix"):
        TablesStore(service, prefix=prefix)


def test_a_bad_connection_string_is_invalid_data() -> None:
    with pytest.raises(InvalidData, match="connection string"):
        TablesStore.from_connection_string("this is not a connection string")


def test_an_unreachable_service_raises_store_error() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    service = TableServiceClient.from_connection_string(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey=a2V5;TableEndpoint={endpoint};",
        retry_total=0,
    )
    with TablesStore(service) as store, pytest.raises(StoreError, match="Azure Tables failed"):
        store.get("runs", "p", "k")


@pytest.mark.azurite
def test_entities_hold_chunks_escaped_keys_and_tagged_fields(azurite_connection: str) -> None:
    service = TableServiceClient.from_connection_string(azurite_connection)
    with TablesStore(service, prefix="layout") as store:
        doc = {"state": "open", "n": 2.0, "ok": True, "none": None, "text": "é" * CHUNK_CHARS}
        store.insert("incident_keys", "a/b", "c#d", doc)
        raw = service.get_table_client("layout" + "incident01keys").get_entity("a!2fb", "c!23d")
    # ASCII JSON turns each "é" into 6 characters, so the text spans several chunks.
    assert raw["doc_n"] == len(doc["text"]) * 6 // CHUNK_CHARS + 1
    assert all(len(raw[f"doc_{i}"]) <= CHUNK_CHARS for i in range(raw["doc_n"]))
    assert (raw["f_state"], raw["f_n"], raw["f_ok"], raw["f_none"]) == (
        "s:open",
        "n:2",
        "b:true",
        "z:",
    )
    assert "f_text" not in raw


@pytest.mark.azurite
def test_a_foreign_entity_is_reported_not_crashed_on(azurite_connection: str) -> None:
    service = TableServiceClient.from_connection_string(azurite_connection)
    with TablesStore(service, prefix="foreign") as store:
        store.insert("runs", "p", "mine", {})
        service.get_table_client("foreignruns").create_entity({"PartitionKey": "p", "RowKey": "x"})
        with pytest.raises(StoreError, match="not a stored document"):
            store.get("runs", "p", "x")
