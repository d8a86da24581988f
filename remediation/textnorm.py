"""One normalisation for error text, shared by catalogue patterns and incoming messages.

Azure, the portal, mail clients and translators spell the same message with typographic quotes,
guillemets, non-breaking spaces, HTML entities, mojibake and line breaks. Folding all of that
once, the same way on both sides, lets the catalogue patterns stay plain phrases.
"""

from __future__ import annotations

import functools
import html
import inspect
import re
import unicodedata
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
MEMO_SIZE = 1024
"""Distinct texts remembered per memoised function: an alert storm repeats a few messages."""
MEMO_MAX_CHARS = 2048
"""Longer texts are not remembered: a cache holds at most MEMO_SIZE * MEMO_MAX_CHARS chars."""
_MEMOS: weakref.WeakSet[Any] = weakref.WeakSet()


def memo(func: F) -> F:
    """A bounded LRU cache over a pure function of texts (or tuples of them) whose result is
    immutable.

    Streams repeat the same messages (redeliveries, polls, storms), so the work a message needs
    (normalising, code spotting, language, ids, times) is done once per distinct text.
    """
    cached = functools.lru_cache(maxsize=MEMO_SIZE)(func)
    _MEMOS.add(cached)
    if len(inspect.signature(func).parameters) == 1:
        # Most memoised functions take one text: the common call is one length check.
        @functools.wraps(func)
        def call_one(text: str | tuple[Any, ...]) -> Any:
            return cached(text) if len(text) <= MEMO_MAX_CHARS else func(text)

        return call_one  # type: ignore[return-value]

    if len(inspect.signature(func).parameters) == 2:

        @functools.wraps(func)
        def call_two(first: Any, second: Any) -> Any:
            if len(first) + len(second) > MEMO_MAX_CHARS:
                return func(first, second)
            return cached(first, second)

        return call_two  # type: ignore[return-value]

    @functools.wraps(func)
    def call(first: str | tuple[Any, ...], *more: str | tuple[Any, ...]) -> Any:
        if len(first) + sum(map(len, more)) > MEMO_MAX_CHARS:
            return func(first, *more)
        return cached(first, *more)

    return call  # type: ignore[return-value]


def clear_memos() -> None:
    """Forget every memoised result (benchmarks time a cold stream; tests start clean)."""
    for cached in list(_MEMOS):
        cached.cache_clear()
    _CONTENT_WORDS.clear()


def memo_stats() -> tuple[int, int]:
    """(hits, misses) of every memo since the last `clear_memos`, for the benchmarks."""
    hits = misses = 0
    for cached in list(_MEMOS):
        info = cached.cache_info()
        hits, misses = hits + info.hits, misses + info.misses
    return hits, misses


_QUOTES = (
    "'\"`\u00b4\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a\u2032\u2033"
)
_SPACES = (
    "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# UTF-8 read as Windows-1252, as in "doesnâ€™t": the usual pairs, repaired before folding.
_MOJIBAKE = {
    "â€™": "'",
    "\u00e2\u20ac\u02dc": "'",
    "â€œ": '"',
    "â€\x9d": '"',
    "â€": '"',
    "Ã©": "é",
    "Ã¨": "è",
    "Ãª": "ê",
    "Ã ": "à",
    "Ã§": "ç",
    "\u00c3\u00b4": "ô",
    "Ã®": "î",
    "Ã¹": "ù",
    "Ã»": "û",
    "Ã‰": "É",
    "Â ": " ",
}


def _clean_table() -> dict[int, str | None]:
    table: dict[int, str | None] = dict.fromkeys(map(ord, _QUOTES), "'")
    table.update(dict.fromkeys(map(ord, _SPACES), " "))
    table.update(dict.fromkeys(map(ord, _DASHES), "-"))
    table.update(dict.fromkeys(map(ord, _ZERO_WIDTH), None))
    table[ord("…")] = "."
    return table


def _fold_table() -> dict[int, str]:
    """Accented Latin letters to their base letter, one character for one (keeps offsets)."""
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[:1]
        if base.isascii() and base.isalpha() and base != chr(code):
            table[code] = base
    return table


_CLEAN = _clean_table()
_FOLD = _fold_table()
# str.translate walks every character in Python-level dict lookups; a regex finds the few
# characters that need replacing at C speed, which is what makes normalisation cheap.
_CLEAN_CHARS = re.compile("[" + re.escape("".join(map(chr, _CLEAN))) + "]")
_FOLD_CHARS = re.compile("[" + re.escape("".join(map(chr, _FOLD))) + "]")


def _cleaned_char(found: re.Match[str]) -> str:
    return _CLEAN[ord(found.group())] or ""


def _folded_char(found: re.Match[str]) -> str:
    return _FOLD[ord(found.group())]


def clean(text: str) -> str:
    """Readable form: entities decoded, quotes and spaces unified, whitespace collapsed.

    Case and accents are kept, so names extracted from it (VMs, hosts) stay as written.
    """
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        if "â€" in text or "Ã" in text or "Â " in text:
            for bad, good in _MOJIBAKE.items():
                text = text.replace(bad, good)
        text = _CLEAN_CHARS.sub(_cleaned_char, text)
    elif '"' in text or "`" in text:
        text = text.replace('"', "'").replace("`", "'")
    return " ".join(text.split())


def fold(cleaned: str) -> str:
    """Matching form of a `clean` text: lower case without accents."""
    if not cleaned.isascii():
        cleaned = _FOLD_CHARS.sub(_folded_char, cleaned)
    return cleaned.lower()


@memo
def text_forms(text: str) -> tuple[str, str]:
    """(`clean(text)`, its `fold`): the readable and the matching form, once per distinct text."""
    readable = clean(text)
    return readable, fold(readable)


def normalize(text: str) -> str:
    """`fold(clean(text))`: the form catalogue patterns are matched against."""
    return fold(clean(text))


# -- content tokens, for matching a message against the catalogue's symptom texts ------------

_STOPWORDS = frozenset(
    (
        # English function words
        *("a", "an", "the", "of", "to", "in", "on", "for", "with", "by", "from", "at", "as"),
        *("is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "it", "its"),
        *("this", "that", "these", "those", "and", "or", "but", "if", "so", "than", "then"),
        *("there", "which", "who", "your", "you", "our", "we", "us", "any", "some", "into"),
        *("didn", "doesn", "isn", "wasn", "can", "could", "should", "would", "will", "may"),
        *("please", "see", "details", "more", "information", "refer", "article"),
        # French function words (after accent folding)
        *("le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "et", "est", "sont"),
        *("ont", "que", "qui", "ce", "cet", "cette", "ces", "en", "dans", "sur", "par", "pour"),
        *("avec", "se", "ne", "pas", "il", "elle", "car", "lors", "ou", "son", "sa", "ses"),
        *("leur", "vous", "votre", "nous", "plus", "afin", "veuillez"),
        # links and markup that carry no meaning
        *("http", "https", "www", "com", "aka", "ms", "go", "fwlink", "linkid", "br"),
    )
)
# Longest first; a suffix is cut only when at least MIN_STEM characters remain.
_SUFFIXES = (
    *("ements", "ement", "ations", "ation", "ments", "ment", "ings", "ing", "ities", "ity"),
    *("ites", "ite", "ees", "ies", "ied", "er", "es", "ed", "ee", "ly", "s", "e"),
)
MIN_STEM = 4
# "VM" is how both languages abbreviate the words it stands for, so the words meet on it.
_PHRASES = (
    ("virtual machines", "vm"),
    ("virtual machine", "vm"),
    ("machines virtuelles", "vm"),
    ("machine virtuelle", "vm"),
)
_SYNONYMS = {"vms": "vm", "mv": "vm", "max": "maximum", "maximal": "maximum"}


def stem(token: str) -> str:
    """A light, language-blind stem: plural, participle and adverb endings cut off, so that
    "failed", "fails" and "failing" (or "échouée" and "échoué") meet on one form."""
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= MIN_STEM:
            return token[: -len(suffix)]
    return token


class _ContentWords(dict[bytes, str]):
    """A word (as ASCII bytes) -> its content stem, "" for a word left out, worked out on the
    first lookup: a text's words are then looked up without a Python call each. Bounded;
    emptied with the memos."""

    def __missing__(self, word: bytes) -> str:
        if len(self) >= 8 * MEMO_SIZE:
            self.clear()
        token = stem(word.decode())
        if len(token) < 2 or token in _STOPWORDS or not token.isalpha():
            token = ""
        self[word] = found = _SYNONYMS.get(token, token)
        return found


_CONTENT_WORDS = _ContentWords()
# Words are runs of [a-z0-9] in folded text: every other byte becomes a space (and every
# character outside ASCII a "?" first), then the text is split.
_NOT_TOKEN = bytes(byte if 97 <= byte <= 122 or 48 <= byte <= 57 else 32 for byte in range(256))


def content_tokens(key: str) -> tuple[str, ...]:
    """The stems of the meaningful words of a `fold`ed text, in order.

    Function words, one-letter pieces of elisions ("l'agent") and anything holding a digit
    (ids, sizes, disk paths, GUID fragments: the filled-in placeholders) are left out; a few
    abbreviations ("VM" for "virtual machine" or "machine virtuelle", "max") are written one
    way.
    """
    if "machine" in key:
        for phrase, short in _PHRASES:
            key = key.replace(phrase, short)
    words = key.encode("ascii", "replace").translate(_NOT_TOKEN).split()
    return tuple(filter(None, map(_CONTENT_WORDS.__getitem__, words)))
