"""Malformed input of any shape raises SignalError with a reason, never anything else."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediation.signals import Signal, SignalError, parse_batch, parse_payload
from remediation.signals.text import MAX_MESSAGE_CHARS

EVENTS = Path(__file__).resolve().parent.parent / "events"
SAMPLES = {
    p.name: json.loads(p.read_text(encoding="utf-8"))
    for p in sorted(EVENTS.glob("*.json"))
    if "validation" not in p.name
}
OBJECT_SAMPLES = {k: v for k, v in SAMPLES.items() if isinstance(v, dict)}

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "schemaId", "data", "essentials", "alertContext", "alertId", "monitorCondition",
    "firedDateTime", "alertTargetIDs", "extendedInfo", "recommendedActions", "specversion",
    "eventType", "id", "properties", "healthErrors", "errorCode", "jobType", "errorDetails",
    "JobFailureCode", "JobUniqueId", "JobStatus", "ReplicationHealthErrors", "SearchResults",
    "tables", "rows", "columns", "condition", "allOf", "dimensions", "data_base64",
    "innerHealthErrors", "creationTimeUtc", "TimeGenerated", "providerSpecificDetails",
]  # fmt: skip
keyed_dicts = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), scalars, max_size=5),
    lambda children: st.dictionaries(
        st.sampled_from(KEYS), children | st.lists(children, max_size=3) | scalars, max_size=6
    ),
    max_leaves=30,
)


def parse_or_reject(value: object) -> None:
    try:
        result = parse_batch(value) if isinstance(value, list) else [parse_payload(value)]
    except SignalError as exc:
        assert str(exc)
        return
    assert all(isinstance(s, Signal) for s in result)
    assert all(len(s.message) <= MAX_MESSAGE_CHARS for s in result)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_parses_or_raises_signal_error(value):
    parse_or_reject(value)


@settings(max_examples=300, deadline=None)
@given(keyed_dicts)
def test_dicts_with_known_keys_parse_or_raise_signal_error(value):
    parse_or_reject(value)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


def _replace(value, path, new):
    clone = copy.deepcopy(value)
    node = clone
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return clone


def _delete(value, path):
    clone = copy.deepcopy(value)
    node = clone
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return clone


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_sample_with_one_field_corrupted_parses_or_raises_signal_error(data):
    name = data.draw(st.sampled_from(sorted(SAMPLES)))
    sample = SAMPLES[name]
    paths = list(_paths(sample))
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    new = data.draw(json_values | st.just("\x00" * 10))
    parse_or_reject(_replace(sample, path, new))
    parse_or_reject(_delete(sample, path))


@pytest.mark.parametrize("name", sorted(OBJECT_SAMPLES))
def test_every_string_field_huge_is_capped(name):
    sample = copy.deepcopy(OBJECT_SAMPLES[name])
    for path in _paths(sample):
        node = sample
        for key in path[:-1]:
            node = node[key]
        if isinstance(node[path[-1]], str) and "Time" not in str(path[-1]):
            node[path[-1]] = node[path[-1]] + "\x00" + "y" * 200_000
    parse_or_reject(sample)


def test_deep_nesting_is_rejected_cleanly():
    deep: object = {"data": None}
    for _ in range(5000):
        deep = {"specversion": "1.0", "id": "x", "type": "t", "data": deep}
    with pytest.raises(SignalError):
        parse_payload(deep)
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    with pytest.raises(SignalError):
        parse_batch(nested)


@pytest.mark.parametrize("value", [b"bytes", 1, 2.5, True, None, object(), (1, 2), {1, 2}])
def test_non_json_types_raise_signal_error(value):
    with pytest.raises(SignalError):
        parse_payload(value)


def test_wrong_type_reason_names_the_path():
    sample = copy.deepcopy(SAMPLES["migration_item_dispose_artefacts.json"])
    sample["properties"]["healthErrors"][0]["errorCode"] = {"nested": True}
    with pytest.raises(SignalError, match=r"healthErrors\[0\]\.errorCode: expected a string"):
        parse_payload(sample)
