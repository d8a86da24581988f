"""Read the real-world corpus: Microsoft-authored error texts (messages/) and payloads
(payloads/), each data file with a `<name>.source.yaml` sidecar that says where it came from.

A message item is `{text, expect}`: `expect` is the catalogue entry the text must classify to,
or null for a look-alike that must stay unclassified. A payload's sidecar holds its `expect`
block (what parsing and the scope filter must make of it). See README.md for the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent
MESSAGES = ROOT / "messages"
PAYLOADS = ROOT / "payloads"
SIDECAR = ".source.yaml"
LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Message:
    text: str
    expect: str | None
    lang: str
    file: str
    source: str | None = None


@dataclass(frozen=True)
class Payload:
    name: str
    value: Any
    expect: dict[str, Any]
    sidecar: dict[str, Any] = field(repr=False)


class CorpusError(ValueError):
    """A corpus file breaks the rules; the message names the file."""


def sidecar_of(path: Path) -> dict[str, Any]:
    """The provenance sidecar of a data file: a `source` or `sources`, and what was changed."""
    side = path.with_name(path.name.rsplit(".", 1)[0] + SIDECAR)
    if not side.is_file():
        raise CorpusError(f"{path.name}: no provenance sidecar {side.name}")
    data = yaml.safe_load(side.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not ({"source", "sources"} & set(data)):
        raise CorpusError(f"{side.name}: needs a 'source' or 'sources' block")
    if "changes" not in data:
        raise CorpusError(f"{side.name}: say what was changed ('changes: none' if nothing)")
    return data


def _data_files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"*{suffix}") if not p.name.endswith(SIDECAR))


@cache
def messages() -> tuple[Message, ...]:
    found: list[Message] = []
    for path in _data_files(MESSAGES, ".yaml"):
        side = sidecar_of(path)
        lang = side.get("language")
        if lang not in LANGUAGES:
            raise CorpusError(f"{path.name}: the sidecar's language must be en or fr")
        items = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("items")
        if not isinstance(items, list) or not items:
            raise CorpusError(f"{path.name}: expected a non-empty 'items' list")
        named = set(side.get("sources") or {})
        for index, item in enumerate(items):
            where = f"{path.name}: items[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise CorpusError(f"{where}: needs a text")
            if "expect" not in item:
                raise CorpusError(f"{where}: say what it must classify to (expect, or null)")
            source = item.get("source")
            if source is not None and source not in named:
                raise CorpusError(f"{where}: source {source!r} is not in the sidecar")
            found.append(Message(item["text"], item["expect"], lang, path.name, source))
    return tuple(found)


@cache
def payloads() -> tuple[Payload, ...]:
    found = []
    for path in _data_files(PAYLOADS, ".json"):
        side = sidecar_of(path)
        expect = side.get("expect")
        if not isinstance(expect, dict) or not ({"verdict", "verdicts"} & set(expect)):
            raise CorpusError(f"{path.name}: the sidecar needs an expect block with a verdict")
        value = json.loads(path.read_text(encoding="utf-8"))
        found.append(Payload(path.stem, value, expect, side))
    return tuple(found)
