"""The store contract, run against every backend through the `store` fixture."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from remediation.store import AlreadyExists, Conflict, InvalidData, NotFound, Store
from remediation.store.base import MAX_DOCUMENT_CHARS


def race(workers: int, task: Callable[[int], Any]) -> list[Any]:
    """Run task(i) on `workers` threads released together by a barrier."""
    barrier = threading.Barrier(workers)

    def run(i: int) -> Any:
        barrier.wait()
        return task(i)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, range(workers)))


def test_insert_then_get_returns_the_document(store: Store) -> None:
    doc = {"state": "open", "vms": ["vm1", "vm2"], "count": 2, "nested": {"a": None}}
    created = store.insert("incidents", "vault1", "inc-1", doc)
    fetched = store.get("incidents", "vault1", "inc-1")
    assert fetched == created
    assert (fetched.table, fetched.partition, fetched.key, fetched.data) == (
        "incidents",
        "vault1",
        "inc-1",
        doc,
    )
    assert fetched.etag
    assert store.get("incidents", "vault1", "inc-2") is None
    assert store.get("incidents", "vault2", "inc-1") is None


def test_insert_on_a_taken_key_raises_already_exists(store: Store) -> None:
    store.insert("incidents", "p", "k", {"v": 1})
    with pytest.raises(AlreadyExists):
        store.insert("incidents", "p", "k", {"v": 2})
    assert store.get("incidents", "p", "k").data == {"v": 1}


def test_replace_needs_the_current_etag(store: Store) -> None:
    first = store.insert("runs", "p", "k", {"step": 1})
    second = store.replace("runs", "p", "k", {"step": 2}, etag=first.etag)
    assert second.etag != first.etag
    with pytest.raises(Conflict):
        store.replace("runs", "p", "k", {"step": 3}, etag=first.etag)
    assert store.get("runs", "p", "k") == second
    third = store.replace("runs", "p", "k", {"step": 3}, etag=second.etag)
    assert store.get("runs", "p", "k").data == {"step": 3} == third.data


def test_replace_of_a_missing_record_raises_not_found(store: Store) -> None:
    etag = store.insert("runs", "p", "other", {}).etag
    with pytest.raises(NotFound):
        store.replace("runs", "p", "missing", {"x": 1}, etag=etag)


def test_replace_removes_fields_the_new_document_lacks(store: Store) -> None:
    first = store.insert("runs", "p", "k", {"state": "open", "extra": "x"})
    store.replace("runs", "p", "k", {"state": "closed"}, etag=first.etag)
    assert store.get("runs", "p", "k").data == {"state": "closed"}
    assert store.query("runs", where={"extra": "x"}) == []


def test_upsert_creates_then_overwrites(store: Store) -> None:
    created = store.upsert("switches", "global", "kill", {"on": False, "by": "alice"})
    overwritten = store.upsert("switches", "global", "kill", {"on": True})
    assert overwritten.etag != created.etag
    assert store.get("switches", "global", "kill").data == {"on": True}
    with pytest.raises(Conflict):
        store.replace("switches", "global", "kill", {"on": False}, etag=created.etag)


def test_delete_with_a_stale_etag_raises_and_keeps_the_record(store: Store) -> None:
    first = store.insert("approvals", "p", "k", {"v": 1})
    current = store.replace("approvals", "p", "k", {"v": 2}, etag=first.etag)
    with pytest.raises(Conflict):
        store.delete("approvals", "p", "k", etag=first.etag)
    assert store.get("approvals", "p", "k") == current
    store.delete("approvals", "p", "k", etag=current.etag)
    assert store.get("approvals", "p", "k") is None


def test_delete_is_idempotent(store: Store) -> None:
    record = store.insert("approvals", "p", "k", {})
    store.delete("approvals", "p", "k")
    assert store.get("approvals", "p", "k") is None
    store.delete("approvals", "p", "k")
    store.delete("approvals", "p", "k", etag=record.etag)


def test_an_etag_from_before_a_delete_does_not_match_the_new_record(store: Store) -> None:
    old = store.insert("approvals", "p", "k", {"v": 1})
    store.delete("approvals", "p", "k")
    store.insert("approvals", "p", "k", {"v": 2})
    with pytest.raises(Conflict):
        store.replace("approvals", "p", "k", {"v": 3}, etag=old.etag)


def test_similar_table_names_are_separate_tables(store: Store) -> None:
    names = ["incident_keys", "incidentkeys", "incident01keys", "incident0_keys", "a_0"]
    for name in names:
        store.insert(name, "p", "k", {"table": name})
    for name in names:
        assert [r.data for r in store.query(name)] == [{"table": name}]


def test_returned_data_is_a_private_copy(store: Store) -> None:
    doc = {"vms": ["a"]}
    record = store.insert("incidents", "p", "k", doc)
    doc["vms"].append("b")
    record.data["vms"].append("c")
    assert store.get("incidents", "p", "k").data == {"vms": ["a"]}


def test_query_by_partition_and_whole_table_is_ordered(store: Store) -> None:
    for partition, key in [("b", "2"), ("a", "2"), ("b", "1"), ("a", "1"), ("c", "1")]:
        store.insert("incidents", partition, key, {"p": partition, "k": key})
    store.insert("runs", "a", "1", {})
    everything = store.query("incidents")
    assert [(r.partition, r.key) for r in everything] == [
        ("a", "1"),
        ("a", "2"),
        ("b", "1"),
        ("b", "2"),
        ("c", "1"),
    ]
    assert all(r.table == "incidents" for r in everything)
    assert [r.key for r in store.query("incidents", "b")] == ["1", "2"]
    assert store.query("incidents", "zzz") == []
    assert [r.key for r in store.query("incidents", limit=3)] == ["1", "2", "1"]


def test_query_on_a_table_never_written_is_empty(store: Store) -> None:
    assert store.query("neverused") == []
    assert store.get("neverused", "p", "k") is None


def test_query_filters_on_top_level_fields(store: Store) -> None:
    docs = {
        "1": {"state": "open", "vm": "vm1", "attempts": 1, "auto": True},
        "2": {"state": "open", "vm": "vm2", "attempts": 2.0, "auto": False},
        "3": {"state": "closed", "vm": "vm1", "attempts": 1.0, "auto": True},
        "4": {"state": "open", "vm": None, "attempts": 3, "auto": 1},
        "5": {"state": "open vm1", "tags": ["x"], "long": "z" * 600},
    }
    for key, doc in docs.items():
        store.insert("incidents", "east" if key < "4" else "west", key, doc)

    def keys(**query: Any) -> list[str]:
        return [r.key for r in store.query("incidents", **query)]

    assert keys(where={"state": "open"}) == ["1", "2", "4"]
    assert keys(partition="east", where={"state": "open"}) == ["1", "2"]
    assert keys(where={"state": "open", "vm": "vm1"}) == ["1"]
    assert keys(where={"attempts": 1}) == ["1", "3"]
    assert keys(where={"attempts": 2}) == ["2"]
    assert keys(where={"auto": True}) == ["1", "3"]
    assert keys(where={"auto": 1}) == ["4"]
    assert keys(where={"vm": None}) == ["4"]
    assert keys(where={"tags": ["x"]}) == ["5"]
    assert keys(where={"long": "z" * 600}) == ["5"]
    assert keys(where={"state": "open", "missing": None}) == []
    assert keys(where={"state": "open"}, limit=2) == ["1", "2"]
    assert keys(where={"state": "open'); drop"}) == []


def test_query_rejects_bad_arguments(store: Store) -> None:
    with pytest.raises(InvalidData):
        store.query("incidents", limit=0)
    with pytest.raises(InvalidData):
        store.query("Bad-Table")


def test_append_keeps_entries_in_order(store: Store) -> None:
    appended = [store.append("audit", "run-1", {"n": n}) for n in range(20)]
    assert len({r.key for r in appended}) == 20
    logged = store.query("audit", "run-1")
    assert [r.data["n"] for r in logged] == list(range(20))
    assert [r.key for r in logged] == [r.key for r in appended]


def test_append_under_concurrency_never_loses_or_overwrites(store: Store) -> None:
    def writer(worker: int) -> list[str]:
        return [store.append("audit", "run-1", {"w": worker, "n": n}).key for n in range(15)]

    keys = [key for batch in race(8, writer) for key in batch]
    assert len(set(keys)) == 120
    logged = store.query("audit", "run-1")
    assert sorted(keys) == [r.key for r in logged]
    for worker in range(8):
        assert [r.data["n"] for r in logged if r.data["w"] == worker] == list(range(15))


def test_claim_is_exactly_once_under_8_racing_threads(store: Store) -> None:
    def claimer(worker: int) -> list[str]:
        return [k for k in map(str, range(10)) if store.claim("seen", "sig", k, {"by": worker})]

    won = [key for batch in race(8, claimer) for key in batch]
    assert sorted(won) == sorted(map(str, range(10)))
    assert not store.claim("seen", "sig", "3", {"by": "late"})
    winners = {r.key: r.data["by"] for r in store.query("seen", "sig")}
    assert len(winners) == 10


def test_async_claims_are_exactly_once_among_concurrent_coroutines(store: Store) -> None:
    """The webhooks claim from the event loop: concurrent coroutines, one winner per key."""

    async def claims() -> list[bool]:
        attempts = [store.aclaim("seen", "sig", str(n % 5), {"by": n}) for n in range(20)]
        return list(await asyncio.gather(*attempts))

    assert sum(asyncio.run(claims())) == 5
    winners = {r.key: r.data["by"] for r in store.query("seen", "sig")}
    assert sorted(winners) == ["0", "1", "2", "3", "4"]
    assert asyncio.run(store.aget("seen", "sig", "2")).data == {"by": winners["2"]}
    assert asyncio.run(store.aget("seen", "sig", "9")) is None
    with pytest.raises(InvalidData):
        asyncio.run(store.aclaim("seen", "sig", "big", {"text": "x" * 300_000}))


def test_update_retries_so_no_increment_is_lost(store: Store) -> None:
    def bump(data: dict[str, Any] | None) -> dict[str, Any]:
        return {"count": (data or {"count": 0})["count"] + 1}

    def incrementer(_: int) -> None:
        for _ in range(50):
            store.update("switches", "counters", "c", bump)

    race(2, incrementer)
    assert store.get("switches", "counters", "c").data == {"count": 100}


def test_update_creates_a_missing_record_and_aborts_when_fn_raises(store: Store) -> None:
    created = store.update("runs", "p", "k", lambda data: {"seen_none": data is None})
    assert created.data == {"seen_none": True}

    def refuse(data: dict[str, Any] | None) -> dict[str, Any]:
        raise LookupError("not allowed")

    with pytest.raises(LookupError):
        store.update("runs", "p", "k", refuse)
    assert store.get("runs", "p", "k") == created


def test_store_errors_raised_by_fn_abort_the_update_without_retrying(store: Store) -> None:
    calls: list[object] = []

    def absent_is_an_error(data: dict[str, Any] | None) -> dict[str, Any]:
        calls.append(data)
        raise NotFound("run r-1 is gone")

    with pytest.raises(NotFound, match="r-1"):
        store.update("runs", "p", "r-1", absent_is_an_error)
    assert calls == [None]


def test_change_updates_an_existing_record_and_never_creates_a_missing_one(store: Store) -> None:
    store.insert("runs", "p", "k", {"state": "pending"})
    changed = store.change("runs", "p", "k", lambda data: {**data, "state": "queued"})
    assert changed.data == {"state": "queued"} == store.get("runs", "p", "k").data

    calls: list[object] = []
    with pytest.raises(NotFound, match="runs/p/gone"):
        store.change("runs", "p", "gone", lambda data: calls.append(data) or data)
    assert calls == [] and store.get("runs", "p", "gone") is None


def test_update_gives_up_with_conflict_when_the_record_keeps_changing(store: Store) -> None:
    store.insert("runs", "p", "k", {"n": 0})

    def interfering(data: dict[str, Any] | None) -> dict[str, Any]:
        store.upsert("runs", "p", "k", {"n": -1})
        return {"n": 1}

    with pytest.raises(Conflict):
        store.update("runs", "p", "k", interfering, retries=2)


AWKWARD = [
    "a/b\\c#d?e",
    "tab\there\nnewline\x7f\x85",
    "quote'double\"",
    "percent%2Fencoded%",
    "bang!21not-an-escape!",
    "accents éàç 漢字 🚀",
    "  spaces  ",
    "(PartitionKey eq 'x')",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_partitions_and_keys_round_trip(store: Store, text: str) -> None:
    record = store.insert("seen", text, text, {"text": text})
    assert store.get("seen", text, text) == record
    assert [(r.partition, r.key) for r in store.query("seen", text)] == [(text, text)]
    assert store.query("seen", where={"text": text}) == [record]
    updated = store.replace("seen", text, text, {"text": "x"}, etag=record.etag)
    store.delete("seen", text, text, etag=updated.etag)
    assert store.get("seen", text, text) is None


def test_large_documents_round_trip(store: Store) -> None:
    doc = {
        "state": "open",
        "text": "défaillance de la réplication " * 4000,
        "vms": [f"vm-{i:04d}" for i in range(3000)],
    }
    record = store.insert("runs", "p", "big", doc)
    assert store.get("runs", "p", "big").data == doc == record.data
    assert store.query("runs", where={"state": "open"}) == [record]


def test_oversized_and_invalid_documents_are_rejected_clearly(store: Store) -> None:
    with pytest.raises(InvalidData, match="limit"):
        store.insert("runs", "p", "k", {"blob": "x" * MAX_DOCUMENT_CHARS})
    with pytest.raises(InvalidData, match="JSON"):
        store.insert("runs", "p", "k", {"when": object()})
    with pytest.raises(InvalidData, match="JSON"):
        store.insert("runs", "p", "k", {"ratio": float("nan")})
    with pytest.raises(InvalidData, match="field names"):
        store.insert("runs", "p", "k", {1: "x"})
    with pytest.raises(InvalidData, match="mapping"):
        store.insert("runs", "p", "k", ["not", "a", "dict"])
    assert store.get("runs", "p", "k") is None


@pytest.mark.parametrize(
    ("table", "partition", "key"),
    [
        ("Incidents", "p", "k"),
        ("audit-log", "p", "k"),
        ("9runs", "p", "k"),
        ("x" * 25, "p", "k"),
        ("runs", "", "k"),
        ("runs", "p", "k" * 257),
    ],
)
def test_bad_addresses_are_rejected_clearly(store: Store, table: str, partition: str, key: str):
    with pytest.raises(InvalidData):
        store.insert(table, partition, key, {})
    with pytest.raises(InvalidData):
        store.get(table, partition, key)
