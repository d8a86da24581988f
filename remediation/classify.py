"""Match a signal to its catalogue entry: by error code when that is unambiguous, else by the
entry's exact phrase patterns, else by token matching against its symptom texts (`symptoms`).

Each verdict says what decided it (`matched_by`: code, pattern or symptom), the code, phrase or
symptom text that did (`matched`) and how sure it is (`score`: 1.0 for a code or a phrase, the
symptom score otherwise, never below `symptoms.THRESHOLD`).

Everything is compiled once per catalogue; a call normalises the message once and then only runs
substring checks, precompiled regexes and an inverted-index lookup, so thousands of signals a
second stay cheap. The work that depends only on the text (normal forms, the VM it names, the
codes and phrases it holds) is memoised per distinct text, since streams repeat the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Literal

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


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict for one signal; `entry` is None when no catalogue entry fits."""

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
        # The same, flattened for the scan every unmatched text goes through.
        self._searches = tuple(
            (pattern.anchor, pattern.regex.search, (entry, pattern))
            for entry, pattern in self._patterns
        )
        self._entries = {entry.id: entry for entry in catalogue}
        self.symptoms = SymptomIndex(catalogue)
        self._text_codes = memo(self._codes_in_text)
        self._symptom_match = memo(self._match_symptoms)
        self._first_match = memo(self._match_any)
        self._phrase_language = memo(self._entry_phrase_language)
        # A verdict depends only on these four values (a Classification is immutable).
        self._verdict = memo(self._classify)

    def classify(self, signal: Signal) -> Classification:
        message, codes = signal.message or "", tuple(signal.codes)
        return self._verdict(message, codes, signal.vm or "", signal.language or "")

    def classify_text(self, text: str) -> Classification:
        return self._verdict(text, (), "", "")

    def _classify(
        self, text: str, codes: Iterable[str], vm: str | None, language: str
    ) -> Classification:
        """`vm` and `language` are "" when unknown."""
        readable, key = text_forms(text[:MAX_MATCH_CHARS])
        vm = vm or _extract_vm(readable, key)
        ambiguous: set[str] = set()
        for code, entries in self._codes(key, codes):
            if len(entries) == 1:
                entry = entries[0]
                lang = self._phrase_language(key, entry.id) or _detect(readable, language)
                return Classification(entry, entry.id, vm, code, "code", lang, 1.0)
            ambiguous.update(e.id for e in entries)
        hit = (self._match(key, ambiguous) if ambiguous else None) or self._first_match(key)
        if hit:
            entry, pattern = hit
            lang = pattern.lang if " " in pattern.source else _detect(readable, language)
            return Classification(entry, entry.id, vm, pattern.source, "pattern", lang, 1.0)
        found = self._symptom_match(key, tuple(sorted(ambiguous)))
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
        yield from self._text_codes(key)

    def _codes_in_text(self, key: str) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
        found = []
        owned = self._owners.get(key.strip())
        if owned:
            found.append(owned)
        for lowered, code, entries in self._named:
            if lowered in key:
                found.append((code, entries))
        if "id" in key or "code" in key:
            for number in _ERROR_ID.findall(key):
                owned = self._owners.get(number)
                if owned:
                    found.append(owned)
        return tuple(found)

    def _match_symptoms(self, key: str, only: tuple[str, ...]) -> SymptomMatch | None:
        """`only`: the entries a shared code narrowed the choice to (empty: any entry)."""
        return self.symptoms.best(content_tokens(key), set(only) if only else None)

    def _match_any(self, key: str) -> tuple[Entry, Pattern] | None:
        for anchor, search, hit in self._searches:
            if anchor in key and search(key):
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
