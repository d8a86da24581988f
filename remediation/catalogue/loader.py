"""Load and validate the error catalogue (YAML files in this folder) into frozen dataclasses.

Everything is checked once at start: a typo in a catalogue file fails loudly with the file, the
entry id and the field, instead of an error silently never matching in production.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import yaml

from remediation.policy import MODES, Mode
from remediation.textnorm import content_tokens, normalize

T = TypeVar("T")
Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
SERVICES = ("migrate-replication", "migrate-network", "backup")
SEVERITIES = ("critical", "warning", "info")
PLAYBOOKS = (
    "repair-replication",
    "cleanup-restore-points",
    "retry-backup",
    "reset-snapshot-extension",
    "diagnose",
)
CATALOGUE_DIR = Path(__file__).parent
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
_REGEX_PREFIX = "re:"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogueError(ValueError):
    """The catalogue is invalid; the message names the file, the entry id and the field."""


@dataclass(frozen=True, slots=True)
class Localized(Generic[T]):
    """The same content in English and French."""

    en: T
    fr: T

    def get(self, lang: str) -> T:
        return self.fr if lang == "fr" else self.en


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled match phrase. `anchor` is a literal the text must contain (a cheap filter)."""

    lang: Lang
    source: str
    regex: re.Pattern[str]
    anchor: str


@dataclass(frozen=True, slots=True)
class Symptom:
    """How Microsoft words the error (a message, with `{}` where values are filled in), as
    the content stems the token matcher compares; `bigrams` are pairs of stems that follow
    each other within one literal piece."""

    lang: Lang
    source: str
    stems: tuple[str, ...]
    bigrams: frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Source:
    """A page where Microsoft lists codes of this error: provenance of `Entry.codes`."""

    url: str
    codes: tuple[str, ...]
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class Automation:
    """What a fix may do for this entry: which playbook, in which default mode, if what holds."""

    playbook: str | None
    mode: Mode
    preconditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    """One known error: how to recognise it, why it happens and how to fix it."""

    id: str
    title: Localized[str]
    service: str
    severity: str
    codes: tuple[str, ...]
    patterns: Localized[tuple[Pattern, ...]]
    causes: Localized[tuple[str, ...]]
    fix_steps: Localized[tuple[str, ...]]
    doc_url: str
    automation: Automation
    symptoms: Localized[tuple[Symptom, ...]] = Localized((), ())
    sources: tuple[Source, ...] = ()
    fallback: bool = False
    file: str = ""

    def all_patterns(self) -> Iterator[Pattern]:
        yield from self.patterns.en
        yield from self.patterns.fr

    def all_symptoms(self) -> Iterator[Symptom]:
        yield from self.symptoms.en
        yield from self.symptoms.fr

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """Plain, one-language view for JSON output and cards."""
        return {
            "id": self.id,
            "title": self.title.get(lang),
            "service": self.service,
            "severity": self.severity,
            "codes": list(self.codes),
            "causes": list(self.causes.get(lang)),
            "fix_steps": list(self.fix_steps.get(lang)),
            "doc_url": self.doc_url,
            "automation": {
                "playbook": self.automation.playbook,
                "mode": self.automation.mode,
                "preconditions": list(self.automation.preconditions),
            },
        }


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All entries, in file order, with lookups by id and by code."""

    entries: tuple[Entry, ...]
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, tuple[Entry, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, list[Entry]] = {}
        for entry in self.entries:
            for code in entry.codes:
                by_code.setdefault(code.lower(), []).append(entry)
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})
        object.__setattr__(self, "_by_code", {k: tuple(v) for k, v in by_code.items()})

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def by_code(self, code: str) -> tuple[Entry, ...]:
        """Entries that list this code (case-insensitive); several when a code is shared."""
        return self._by_code.get(code.lower(), ())

    def codes(self) -> dict[str, tuple[Entry, ...]]:
        """Every code (lower case) with the entries that own it."""
        return dict(self._by_code)


_ENTRY_FIELDS = {
    "id": True,
    "title": True,
    "service": True,
    "severity": True,
    "codes": False,
    "patterns": True,
    "causes": True,
    "fix_steps": True,
    "doc_url": True,
    "automation": True,
    "symptoms": False,
    "sources": False,
    "fallback": False,
}
_AUTOMATION_FIELDS = {"playbook": True, "mode": True, "preconditions": False}
_SOURCE_FIELDS = {"url": True, "revision": False, "codes": True}
MIN_SYMPTOM_STEMS = 3
"""A symptom needs this many content words: fewer cannot tell one error from another."""


class _Where:
    """Builds error messages that point at the file, entry and field at fault."""

    def __init__(self, file: str, entry_id: str) -> None:
        self.file, self.entry_id = file, entry_id

    def error(self, field: str, reason: str) -> CatalogueError:
        return CatalogueError(f"{self.file}: entry {self.entry_id!r}: field {field!r}: {reason}")


def compile_pattern(source: str, lang: Lang) -> Pattern:
    """Turn a catalogue phrase into a regex over `normalize`d text.

    A phrase is literal text where `{}` (or `{name}`) stands for any filled-in value, such as
    a VM name, disk path or bracketed reason; spaces tolerate being absent around punctuation.
    A source starting with "re:" is a regular expression over the normalised text instead.
    Raises re.error or ValueError when the source cannot be used.
    """
    if source.startswith(_REGEX_PREFIX):
        body = source[len(_REGEX_PREFIX) :].strip()
        if not body:
            raise ValueError("empty regular expression")
        return Pattern(lang, source, re.compile(body), _regex_anchor(body))
    pieces = _PLACEHOLDER.split(source)
    literals = [normalize(p) for p in pieces]
    if not any(literals):
        raise ValueError("a phrase needs some literal text besides placeholders")
    if "{" in "".join(literals) or "}" in "".join(literals):
        raise ValueError("unknown placeholder: use {} or {name}")
    regex = ".*?".join(_phrase_regex(lit) for lit in literals)
    anchor = max((tok for lit in literals for tok in lit.split()), key=len)
    return Pattern(lang, source, re.compile(regex), anchor)


def compile_symptom(source: str, lang: Lang) -> Symptom:
    """The stems of a symptom text; `{}` (or `{name}`) marks a filled-in value, which breaks
    word order (no bigram spans it). Raises ValueError for a text with too few content words."""
    pieces = [content_tokens(normalize(piece)) for piece in _PLACEHOLDER.split(source)]
    stems = tuple(stem for piece in pieces for stem in piece)
    if len(set(stems)) < MIN_SYMPTOM_STEMS:
        raise ValueError(f"a symptom needs at least {MIN_SYMPTOM_STEMS} distinct content words")
    bigrams = frozenset(pair for piece in pieces for pair in itertools.pairwise(piece))
    return Symptom(lang, source, stems, bigrams)


def _regex_anchor(body: str) -> str:
    """The longest literal run every match of `body` must contain ("" when unsure).

    Only text outside groups and classes counts; a quantifier makes its character optional and
    a top-level alternation means no single literal is required.
    """
    runs, run, depth, i = [], "", 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" or ch in "()[.^$+" or (depth and ch != ")"):
            runs.append(run)
            run = ""
            if ch == "\\":
                i += 1
            elif ch == "[":
                start = i + 1 + (body[i + 1 : i + 2] == "^")
                i = body.index("]", start + (body[start : start + 1] == "]"))
            depth += {"(": 1, ")": -1}.get(ch, 0)
        elif ch == "|":
            return ""
        elif ch in "?*{":
            runs.append(run[:-1])
            run = ""
            if ch == "{":
                i = body.index("}", i)
        else:
            run += ch
        i += 1
    runs.append(run)
    return max(runs, key=len)


def _phrase_regex(literal: str) -> str:
    words = [re.escape(word) for word in literal.split()]
    return " ?".join(words)


def load_catalogue(paths: Iterable[Path] | None = None) -> Catalogue:
    """Load the given YAML files (default: every *.yaml next to this module), validated."""
    files = sorted(CATALOGUE_DIR.glob("*.yaml")) if paths is None else list(paths)
    if not files:
        raise CatalogueError(f"{CATALOGUE_DIR}: no catalogue files (*.yaml)")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in files:
        for entry in _load_file(Path(path)):
            if entry.id in seen:
                raise _Where(entry.file, entry.id).error(
                    "id", f"duplicate id, first defined in {seen[entry.id]}"
                )
            seen[entry.id] = entry.file
            entries.append(entry)
    return Catalogue(tuple(entries))


@cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once per process."""
    return load_catalogue()


def _load_file(path: Path) -> list[Entry]:
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{name}: cannot read catalogue file: {exc}") from exc
    if not isinstance(raw, Mapping) or set(raw) != {"entries"}:
        raise CatalogueError(f"{name}: expected a mapping with one key, 'entries'")
    items = raw["entries"]
    if not isinstance(items, list) or not items:
        raise CatalogueError(f"{name}: 'entries' must be a non-empty list")
    return [_entry(item, name, index) for index, item in enumerate(items)]


def _entry(raw: Any, file: str, index: int) -> Entry:
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{file}: entry #{index + 1}: expected a mapping")
    entry_id = raw.get("id")
    where = _Where(file, entry_id if isinstance(entry_id, str) else f"#{index + 1}")
    _check_fields(raw, _ENTRY_FIELDS, where, "")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise where.error("id", "must be lower-case words joined by '-'")
    automation = _automation(raw["automation"], where)
    codes = _codes(raw.get("codes", []), where)
    fallback = raw.get("fallback", False)
    if not isinstance(fallback, bool):
        raise where.error("fallback", "must be true or false")
    return Entry(
        id=entry_id,
        title=_localized(raw["title"], where, "title", _text),
        service=_choice(raw["service"], SERVICES, where, "service"),
        severity=_choice(raw["severity"], SEVERITIES, where, "severity"),
        codes=codes,
        patterns=_patterns(raw["patterns"], where),
        causes=_localized(raw["causes"], where, "causes", _text_list),
        fix_steps=_localized(raw["fix_steps"], where, "fix_steps", _text_list),
        doc_url=_url(raw["doc_url"], where),
        automation=automation,
        symptoms=_symptoms(raw.get("symptoms"), where),
        sources=_sources(raw.get("sources"), codes, where),
        fallback=fallback,
        file=file,
    )


def _check_fields(raw: Mapping[str, Any], fields: dict[str, bool], where: _Where, prefix: str):
    for key in raw:
        if key not in fields:
            raise where.error(f"{prefix}{key}", "unknown field")
    for key, required in fields.items():
        if required and raw.get(key) is None:
            raise where.error(f"{prefix}{key}", "missing")


def _text(value: Any, where: _Where, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(field, "must be non-empty text")
    return value.strip()


def _text_list(value: Any, where: _Where, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise where.error(field, "must be a non-empty list of text")
    return tuple(_text(item, where, f"{field}[{i}]") for i, item in enumerate(value))


def _localized(value: Any, where: _Where, field: str, convert) -> Localized:
    if not isinstance(value, Mapping):
        raise where.error(field, "must map en and fr")
    _check_fields(value, dict.fromkeys(LANGS, True), where, f"{field}.")
    return Localized(*(convert(value[lang], where, f"{field}.{lang}") for lang in LANGS))


def _patterns(value: Any, where: _Where) -> Localized[tuple[Pattern, ...]]:
    def convert(items: Any, where: _Where, field: str) -> tuple[Pattern, ...]:
        lang: Lang = field.rsplit(".", 1)[1]  # type: ignore[assignment]  # _localized: en or fr
        compiled = []
        for i, source in enumerate(_text_list(items, where, field)):
            try:
                compiled.append(compile_pattern(source, lang))
            except (re.error, ValueError) as exc:
                reason = f"pattern {source!r} does not compile: {exc}"
                raise where.error(f"{field}[{i}]", reason) from exc
        return tuple(compiled)

    return _localized(value, where, "patterns", convert)


def _symptoms(value: Any, where: _Where) -> Localized[tuple[Symptom, ...]]:
    """Optional; either language may be absent or empty where Microsoft gives no wording."""
    if value is None:
        return Localized((), ())
    if not isinstance(value, Mapping) or not set(value) <= set(LANGS):
        raise where.error("symptoms", "must map en and/or fr to lists of text")
    compiled: dict[str, tuple[Symptom, ...]] = {}
    for lang in LANGS:
        items = value.get(lang) or []
        field = f"symptoms.{lang}"
        if not isinstance(items, list):
            raise where.error(field, "must be a list of text")
        symptoms = []
        for i, item in enumerate(items):
            text = _text(item, where, f"{field}[{i}]")
            try:
                symptoms.append(compile_symptom(text, lang))
            except ValueError as exc:
                raise where.error(f"{field}[{i}]", f"symptom {text!r}: {exc}") from exc
        compiled[lang] = tuple(symptoms)
    return Localized(compiled["en"], compiled["fr"])


def _sources(value: Any, codes: tuple[str, ...], where: _Where) -> tuple[Source, ...]:
    """Where Microsoft lists the entry's codes; every listed code must be one of the entry's."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise where.error("sources", "must be a list of {url, revision, codes}")
    known = {code.lower() for code in codes}
    sources = []
    for i, item in enumerate(value):
        field = f"sources[{i}]"
        if not isinstance(item, Mapping):
            raise where.error(field, "must be a mapping with url and codes")
        _check_fields(item, _SOURCE_FIELDS, where, f"{field}.")
        url = _text(item["url"], where, f"{field}.url")
        if not url.startswith("https://"):
            raise where.error(f"{field}.url", "must be an https:// link")
        listed = _codes(item["codes"], where, f"{field}.codes")
        stray = [code for code in listed if code.lower() not in known]
        if stray:
            raise where.error(f"{field}.codes", f"{stray} are not codes of this entry")
        revision = item.get("revision")
        if revision is not None:
            revision = _text(str(revision), where, f"{field}.revision")
        sources.append(Source(url, listed, revision))
    return tuple(sources)


def _choice(value: Any, allowed: tuple[str, ...], where: _Where, field: str) -> str:
    if value not in allowed:
        raise where.error(field, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _codes(value: Any, where: _Where, field: str = "codes") -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise where.error(field, "must be a list of text (quote numeric ids: '1011')")
    codes = tuple(c.strip() for c in value)
    if len({c.lower() for c in codes}) != len(codes):
        raise where.error(field, "lists a code twice")
    return codes


def _url(value: Any, where: _Where) -> str:
    if not isinstance(value, str) or not value.startswith("https://"):
        raise where.error("doc_url", "must be an https:// link")
    return value


def _automation(value: Any, where: _Where) -> Automation:
    if not isinstance(value, Mapping):
        raise where.error("automation", "must be a mapping with playbook and mode")
    _check_fields(value, {**_AUTOMATION_FIELDS, "playbook": False}, where, "automation.")
    if "playbook" not in value:
        raise where.error("automation.playbook", "missing (write null for none)")
    playbook, mode = value["playbook"], value["mode"]
    if playbook is not None:
        _choice(playbook, PLAYBOOKS, where, "automation.playbook")
    _choice(mode, MODES, where, "automation.mode")
    if (playbook is None) != (mode == "manual"):
        raise where.error("automation.mode", "manual exactly when there is no playbook")
    pre = value.get("preconditions", [])
    preconditions = _text_list(pre, where, "automation.preconditions") if pre else ()
    return Automation(playbook, mode, preconditions)
