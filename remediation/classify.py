"""Match a signal to its catalogue entry: by error code when that is unambiguous, else by the
entry's exact phrase patterns, else by token matching against its symptom texts (`symptoms`).

Each verdict says what decided it (`matched_by`: code, pattern or symptom), the code, phrase or
symptom text that did (`matched`) and how sure it is (`score`: 1.0 for a code or a phrase, the
symptom score otherwise, never below `symptoms.THRESHOLD`).

Everything is compiled once per catalogue; a call normalises the message once and then only runs
substring checks, precompiled regexes and an inverted-index lookup, so thousands of signals a
second stay cheap. Streams repeat the same messages, so a verdict is memoised per distinct text,
codes and language, and a text's normal forms and the VM it names per text; the steps of a
verdict run once per distinct one, which is why they are not memoised each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import compress
from typing import Literal, NamedTuple

from remediation.catalogue import Catalogue, Entry, Pattern, default_catalogue
from remediation.signals.language import detect_language
from remediation.signals.model import Signal
from remediation.symptoms import SymptomIndex, SymptomMatch
from remediation.textnorm import content_tokens, memo, text_forms

MatchedBy = Literal["code", "pattern", "symptom"]
# Error messages are short; matching stops here so a huge payload cannot make a regex crawl.
MAX_MATCH_CHARS = 20_000

# Numeric error ids only count when the text says they are one ("Error ID: 1011", "ID d'erreur :
# 1010"); a bare number elsewhere is a size, a port or a KB article.
_ERROR_ID = re.compile(
    r"(?:error ?(?:id|code)|id d'erreur|code d'erreur)\s?(?:: ?|# ?)?(\d{3,7})\b"
)
# (substrings of the folded text that must be present, regex over the readable text)
_VM_PATTERNS = (
    (("virtualmachines/",), re.compile(r"/virtualmachines/([^/\s'?#]+)", re.IGNORECASE)),
    (
        ("vm:", "vm :", "mv:", "mv :"),
        re.compile(r"\b(?:VM|MV) ?: ?'?([^'\s][^']{0,79}?)'?\.(?: |$)", re.IGNORECASE),
    ),
    (
        ("virtual machine ", "machine virtuelle "),
        re.compile(r"\b(?:virtual machine|machine virtuelle) '?([^\s;,']{1,80})'? ?[;,]", re.I),
    ),
)


class Classification(NamedTuple):
    """The verdict for one signal; `entry` is None when no catalogue entry fits. Immutable (the
    verdicts of repeated texts are shared) and cheap to build: a named tuple."""

    entry: Entry | None
    entry_id: str | None
    vm: str | None
    matched: str | None
    matched_by: MatchedBy | None
    language: str
    score: float | None = None


class Classifier:
    """Classifies signals against one catalogue; build once, call many times."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        owners = catalogue.codes()
        spelling = {code.lower(): code for entry in catalogue for code in entry.codes}
        self._owners = {key: (spelling[key], entries) for key, entries in owners.items()}
        # Named codes are found anywhere, even glued into "aka.ms/AB-<code>" or an originAlertId.
        self._named = tuple(
            (key, spelling[key], entries)
            for key, entries in sorted(owners.items(), key=lambda kv: -len(kv[0]))
            if not key.isdigit()
        )
        ordered = [e for e in catalogue if not e.fallback] + [e for e in catalogue if e.fallback]
        self._patterns: tuple[tuple[Entry, Pattern], ...] = tuple(
            (entry, pattern) for entry in ordered for pattern in entry.all_patterns()
        )
        # The same, flattened for the scan every unmatched text goes through: the anchors are
        # tested in one pass (itertools.compress over the `in` tests), the regexes of the few
        # patterns whose anchor the text holds after.
        self._anchors = tuple(pattern.anchor for _entry, pattern in self._patterns)
        self._searches = tuple(
            (pattern.regex.search, (entry, pattern)) for entry, pattern in self._patterns
        )
        self._named_keys = tuple(lowered for lowered, _code, _entries in self._named)
        self._entries = {entry.id: entry for entry in catalogue}
        self.symptoms = SymptomIndex(catalogue)
        # A verdict depends only on the text, its codes and its language (a Classification is
        # immutable); the VM is the signal's, else the one the text names.
        self._verdict = memo(self._classify)

    def classify(self, signal: Signal) -> Classification:
        message = signal.message or ""
        found = self._verdict(message, tuple(signal.codes), signal.language or "")
        return _about(found, signal.vm or _named_vm(message))

    def classify_text(self, text: str) -> Classification:
        return _about(self._verdict(text, (), ""), _named_vm(text))

    def _classify(self, text: str, codes: Iterable[str], language: str) -> Classification:
        """`language` is "" when unknown; the verdict names no VM."""
        readable, key = text_forms(text[:MAX_MATCH_CHARS])
        vm = None
        ambiguous: set[str] = set()
        for code, entries in self._codes(key, codes):
            if len(entries) == 1:
                entry = entries[0]
                lang = self._entry_phrase_language(key, entry.id) or _detect(readable, language)
                return Classification(entry, entry.id, vm, code, "code", lang, 1.0)
            ambiguous.update(e.id for e in entries)
        hit = (self._match(key, ambiguous) if ambiguous else None) or self._match_any(key)
        if hit:
            entry, pattern = hit
            lang = pattern.lang if " " in pattern.source else _detect(readable, language)
            return Classification(entry, entry.id, vm, pattern.source, "pattern", lang, 1.0)
        found = self._match_symptoms(key, ambiguous)
        if found:
            symptom = found.symptom
            return Classification(
                found.entry, found.entry.id, vm, symptom.source, "symptom", symptom.lang,
                found.score,
            )  # fmt: skip
        return Classification(None, None, vm, None, None, _detect(readable, language))

    def _codes(self, key: str, explicit: Iterable[str]) -> Iterator[tuple[str, tuple[Entry, ...]]]:
        """Known codes in payload order, then the whole text as a code, then codes in the text."""
        for raw in explicit:
            owned = self._owners.get(str(raw).strip().lower())
            if owned:
                yield owned
        yield from self._codes_in_text(key)

    def _codes_in_text(self, key: str) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
        found = []
        owned = self._owners.get(key.strip())
        if owned:
            found.append(owned)
        for _lowered, code, entries in compress(
            self._named, map(key.__contains__, self._named_keys)
        ):
            found.append((code, entries))
        if ("error" in key or "d'erreur" in key) and ("id" in key or "code" in key):
            for number in _ERROR_ID.findall(key):
                owned = self._owners.get(number)
                if owned:
                    found.append(owned)
        return tuple(found)

    def _match_symptoms(self, key: str, only: set[str]) -> SymptomMatch | None:
        """`only`: the entries a shared code narrowed the choice to (empty: any entry)."""
        return self.symptoms.best(content_tokens(key), only or None)

    def _match_any(self, key: str) -> tuple[Entry, Pattern] | None:
        for search, hit in compress(self._searches, map(key.__contains__, self._anchors)):
            if search(key):
                return hit
        return None

    def _match(self, key: str, only: set[str] | None) -> tuple[Entry, Pattern] | None:
        for entry, pattern in self._patterns:
            if only is not None and entry.id not in only:
                continue
            if pattern.anchor in key and pattern.regex.search(key):
                return entry, pattern
        return None

    def _entry_phrase_language(self, key: str, entry_id: str) -> str | None:
        """Language of a text matched by code when the entry's own phrases tell, else None."""
        for pattern in self._entries[entry_id].all_patterns():
            if pattern.anchor in key and pattern.regex.search(key):
                return pattern.lang
        return None


def _about(found: Classification, vm: str | None) -> Classification:
    """The verdict for a signal about `vm`."""
    if vm is None:
        return found
    entry, entry_id, _vm, matched, matched_by, language, score = found
    return Classification(entry, entry_id, vm, matched, matched_by, language, score)


def _named_vm(text: str) -> str | None:
    """The VM a text names, if any."""
    return _extract_vm(*text_forms(text[:MAX_MATCH_CHARS]))


@memo
def _extract_vm(readable: str, key: str) -> str | None:
    for needles, regex in _VM_PATTERNS:
        if any(n in key for n in needles):
            found = regex.search(readable)
            if found:
                return found.group(1)
    return None


def _detect(readable: str, known: str) -> str:
    """The language a signal was read in (its parser detected it on the same text), else the
    text's own."""
    return known or (detect_language(readable) if readable else "en")


@cache
def default_classifier() -> Classifier:
    """The classifier over the packaged catalogue, built once per process."""
    return Classifier(default_catalogue())


def classify(signal: Signal) -> Classification:
    return default_classifier().classify(signal)


def classify_text(text: str) -> Classification:
    return default_classifier().classify_text(text)
