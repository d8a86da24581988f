"""Forgiving spelling: a bounded edit distance for typos in chat commands and VM names.

The distance counts insertions, deletions, substitutions and swaps of two neighbours
("statsu" is one swap from "status"); it stops as soon as the bound is passed, so comparing a
word with thousands of VM names stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str, limit: int) -> int:
    """The edit distance between `a` and `b`, or `limit + 1` once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def allowed(word: str) -> int:
    """How many typos a word of this length may carry and still be recognised."""
    return 0 if len(word) <= 3 else 1 if len(word) <= 5 else 2


def closest(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates nearest to `word` within its allowance (case-blind), nearest first;
    an exact match is not a suggestion."""
    low = word.lower()
    limit = allowed(low)
    scored = []
    for candidate in candidates:
        found = distance(low, candidate.lower(), limit)
        if 0 < found <= limit:
            # At equal distance a dropped letter is likelier than an extra one ("faild").
            scored.append((found, len(candidate) < len(low), candidate))
    return [c for *_, c in sorted(scored)]


def corrected(word: str, vocabulary: Iterable[str]) -> str:
    """`word`, or the one vocabulary word it is a typo of (when exactly one is nearest)."""
    if word in vocabulary:
        return word
    found = closest(word, vocabulary)
    return found[0] if found else word
