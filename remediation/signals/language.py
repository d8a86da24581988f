"""Guess whether an operator's or Azure's error text is English or French.

The catalogue holds both wordings; knowing the language lets the classifier try the right phrases
first and lets cards answer in the language the person wrote in.
"""

from __future__ import annotations

import re

from remediation.textnorm import memo

_WORD = re.compile(r"[a-zà-ÿœæ]+(?:'[a-zà-ÿœæ]+)?")
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")  # the same words in ASCII text, found faster
_ACCENTED = re.compile(r"[àâæçéèêëîïôœùûüÿ]")

_FRENCH_WORDS = frozenset(
    (
        *("le", "la", "les", "des", "du", "de", "un", "une", "et", "est", "sont", "pas", "ne"),
        *("n'est", "au", "aux", "avec", "pour", "dans", "sur", "par", "qui", "que", "ce"),
        *("cette", "ces", "été", "être", "ont", "il", "elle", "nous", "vous", "leur", "lors"),
        *("plus", "sans", "erreur", "échec", "échoué", "échouée", "échoue", "impossible"),
        *("virtuelle", "virtuelles", "sauvegarde", "réplication", "coffre", "disque", "disques"),
        *("instantané", "instantanés", "délai", "dépassé", "expiré", "passerelle", "compte"),
        *("stockage", "clé", "réseau", "hôte", "connexion", "refusée", "l'opération"),
        *("d'erreur", "s'est", "produite"),
    )
)
_ENGLISH_WORDS = frozenset(
    (
        *("the", "an", "and", "is", "are", "was", "were", "not", "no", "of", "to", "in", "on"),
        *("for", "with", "by", "from", "at", "this", "that", "these", "it", "be", "been", "has"),
        *("have", "had", "failed", "fail", "error", "could", "cannot", "can't", "unable"),
        *("while", "during", "backup", "replication", "virtual", "disk", "snapshot", "timeout"),
        *("timed", "out", "vault", "agent", "occurred", "operation", "please", "retry", "found"),
        *("reached", "limit"),
    )
)
_FRENCH_PHRASES = ("machine virtuelle", "de la", "n'a pas", "s'est produite")


SAMPLE_CHARS = 600
"""The words of an error's first lines tell its language; a long text is judged on them."""


def detect_language(text: str) -> str:
    """Return "fr" when the text reads as French, else "en" (the default for codes and empties)."""
    if not isinstance(text, str) or not text:
        return "en"
    return _language_of(text[:SAMPLE_CHARS])


@memo
def _language_of(text: str) -> str:
    lowered = text.lower()
    plain = lowered.isascii()
    if not plain:
        lowered = lowered.replace("\u2019", "'").replace("\u2018", "'")
    words = (_ASCII_WORD if plain else _WORD).findall(lowered)
    french = sum(map(_FRENCH_WORDS.__contains__, words))
    english = sum(map(_ENGLISH_WORDS.__contains__, words))
    french += 2 * sum(lowered.count(p) for p in _FRENCH_PHRASES)
    if not plain:
        french += min(len(_ACCENTED.findall(lowered)), 5)
    return "fr" if french > english else "en"
