"""Hostile payloads for the fuzz suite: junk bodies and mutations of the real samples.

Nesting inside JSON documents stays well below Python's recursion limit so that the test
process can judge a mutated sample with the product's parser; bodies nested far deeper are
sent as raw bytes only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

EVENTS = Path(__file__).resolve().parents[1] / "events"
Path_ = tuple[str | int, ...]

TRICKY_TEXT = (
    "",
    " ",
    "\x00",
    "\ud800",  # a lone surrogate: valid JSON escape, not encodable as UTF-8
    "null",
    "${jndi:ldap://x}",
    "${if(true, 'a', 'b')}",
    'x" | union *',
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "é" * 300,
    "/subscriptions//resourceGroups//providers/",
    "Fired",
    "Resolved",
    "azureMonitorCommonAlertSchema",
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(TRICKY_TEXT),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)


def nested(depth: int, kind: str = "list") -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value] if kind == "list" else {"n": value}
    return value


huge_strings = st.integers(min_value=5_000, max_value=400_000).map(lambda n: "A" * n)
deep_values = st.builds(nested, st.integers(20, 120), st.sampled_from(["list", "dict"]))
hostile_values = st.one_of(json_values, huge_strings, deep_values)


def deep_bytes(depth: int, kind: str) -> bytes:
    opening, closing = (b"[", b"]") if kind == "list" else (b'{"a":', b"}")
    return opening * depth + b"0" * (kind == "dict") + closing * depth


ODD_BODIES = (b"", b"{", b"[]", b"{}", b"NaN", b"1e999999", b'"\\ud800"', b"\xef\xbb\xbf{}")
junk_bodies = st.one_of(
    st.binary(max_size=300),  # mostly invalid UTF-8 and never JSON
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.builds(deep_bytes, st.integers(900, 60_000), st.sampled_from(["list", "dict"])),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(ODD_BODIES),
    huge_strings.map(lambda s: json.dumps({"schemaId": s}).encode()),
)


def load_samples(*names: str) -> list[Any]:
    return [json.loads((EVENTS / name).read_text(encoding="utf-8")) for name in names]


def paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every location inside `value`, parents before children (the root is `()`)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def _parent(document: Any, path: Path_) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@st.composite
def mutated(draw: st.DrawFn, samples: list[Any]) -> Any:
    """A real sample with one to four fields replaced by hostile values or deleted."""
    document = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, 4))):
        locations = [p for p in paths(document) if p]
        if not locations:
            break
        path = draw(st.sampled_from(locations))
        parent = _parent(document, path)
        if draw(st.integers(0, 3)) == 0:
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(hostile_values)
    return document
