"""Token matching of an error text against the catalogue's symptom texts, with a score.

The exact codes and phrase patterns recognise Microsoft's wording as the seed pages print it.
Azure and its pages word the same error in other ways (another revision of the page, the
portal's self-help text, the job error string with its advice appended, a French translation
of another year), so the classifier's last resort compares content words instead:

- both sides are folded the same way (`textnorm`): case, accents, quotes; function words,
  one-letter elision pieces and anything holding a digit (the filled-in values) are dropped,
  and the rest is lightly stemmed;
- each word of a symptom weighs its inverse document frequency over all symptoms, so the
  words that tell errors apart ("connectivity", "provisioning") count more than the ones every
  error shares ("failed", "virtual machine");
- the score of a symptom is 3/4 the weighted share of its words found in the text plus 1/4
  the share of its consecutive word pairs found in the same order in the text, at most one
  word apart (word order, allowing a word inserted by another revision or translation);
- an entry wins when its best symptom scores at least THRESHOLD and beats every other
  entry's best by MARGIN; otherwise the text stays unclassified.

THRESHOLD and MARGIN were set on the real-text corpus in tests/corpus: the lowest values that
keep every look-alike message there unclassified, with room to spare (see its README).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from remediation.catalogue import Entry, Symptom

THRESHOLD = 0.8
"""Minimum score for a symptom to decide."""
MARGIN = 0.1
"""How far the winning entry must score above the best other entry."""
UNIGRAM_SHARE = 0.75
"""The rest of a score is the share of the symptom's word pairs found in order."""


@dataclass(frozen=True, slots=True)
class SymptomMatch:
    entry: Entry
    symptom: Symptom
    score: float


FLOOR = (THRESHOLD - MARGIN - (1 - UNIGRAM_SHARE)) / UNIGRAM_SHARE
"""The least weighted share of its words a symptom needs to be in the running: with all its
word pairs in order on top, a lower share cannot come within MARGIN of THRESHOLD."""


class SymptomIndex:
    """An inverted index from stems to the symptoms that hold them, with their weights.

    A symptom is indexed under its heaviest stems only, as many as it takes for the others to
    weigh less than FLOOR of its total: a text holding none of them cannot reach FLOOR, so a
    text's candidates are the symptoms indexed under its stems, and each is then scored on its
    own stems."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._symptoms: list[tuple[Entry, Symptom]] = [
            (entry, symptom)
            for entry in entries
            if not entry.fallback
            for symptom in entry.all_symptoms()
        ]
        documents = len(self._symptoms) or 1
        frequency: dict[str, int] = defaultdict(int)
        for _entry, symptom in self._symptoms:
            for stem in set(symptom.stems):
                frequency[stem] += 1
        self.weights = {stem: math.log(1 + documents / n) for stem, n in frequency.items()}
        postings: dict[str, list[int]] = defaultdict(list)
        self._stems: list[tuple[tuple[str, float], ...]] = []
        self._totals: list[float] = []
        for index, (_entry, symptom) in enumerate(self._symptoms):
            heaviest = sorted(
                ((stem, self.weights[stem]) for stem in set(symptom.stems)),
                key=lambda item: (-item[1], item[0]),
            )
            total = sum(weight for _stem, weight in heaviest)
            self._stems.append(tuple(heaviest))
            self._totals.append(total)
            rest = total
            for stem, weight in heaviest:
                if rest < FLOOR * total * (1 - 1e-9):
                    break
                postings[stem].append(index)
                rest -= weight
        self._postings = {stem: tuple(items) for stem, items in postings.items()}

    def __len__(self) -> int:
        return len(self._symptoms)

    def best(self, stems: tuple[str, ...], only: set[str] | None = None) -> SymptomMatch | None:
        """The deciding symptom for a text's stems, or None when no entry clearly wins.

        `only` restricts the candidates to those entry ids (a code several entries share)."""
        present = set(stems)
        postings = self._postings
        candidates: set[int] = set()
        for stem in present:
            found = postings.get(stem)
            if found:
                candidates.update(found)
        pairs: set[tuple[str, str]] | None = None
        best: dict[str, SymptomMatch] = {}
        for index in sorted(candidates):
            matched = 0.0
            for stem, weight in self._stems[index]:
                if stem in present:
                    matched += weight
            share = matched / self._totals[index]
            if share < FLOOR:
                continue
            entry, symptom = self._symptoms[index]
            if only is not None and entry.id not in only:
                continue
            if pairs is None:
                pairs = ordered_pairs(stems)
            score = _score(share, symptom, pairs)
            current = best.get(entry.id)
            if current is None or score > current.score:
                best[entry.id] = SymptomMatch(entry, symptom, score)
        return _decide(best)


def ordered_pairs(stems: tuple[str, ...], reach: int = 2) -> set[tuple[str, str]]:
    """Pairs of stems where the second follows the first within `reach` positions."""
    pairs: set[tuple[str, str]] = set()
    for distance in range(1, reach + 1):
        pairs.update(zip(stems, stems[distance:], strict=False))
    return pairs


def _score(share: float, symptom: Symptom, pairs: set[tuple[str, str]]) -> float:
    ordered = len(symptom.bigrams & pairs) / len(symptom.bigrams) if symptom.bigrams else share
    return round(UNIGRAM_SHARE * share + (1 - UNIGRAM_SHARE) * ordered, 3)


def _decide(best: dict[str, SymptomMatch]) -> SymptomMatch | None:
    if not best:
        return None
    ranked = sorted(best.values(), key=lambda match: match.score, reverse=True)
    winner = ranked[0]
    if winner.score < THRESHOLD:
        return None
    if len(ranked) > 1 and winner.score - ranked[1].score < MARGIN:
        return None
    return winner
