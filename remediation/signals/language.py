"""Guess whether an operator's or Azure's error text is English or French.

The catalogue holds both wordings; knowing the language lets the classifier try the right phrases
first and lets cards answer in the language the person wrote in.
"""

from __future__ import annotations

from remediation.textnorm import memo

# The words are runs of [a-zà-ÿœæ], two of them joined by one apostrophe ("n'est"). They are
# counted on the text encoded in Latin-1 (œ, the one letter outside it, as þ: no listed word
# holds either), cut by bytes.translate and split(), several times faster than a regex; then
# each pair joined by an apostrophe counts as one word instead of two.
_LETTERS = b"abcdefghijklmnopqrstuvwxyz" + bytes(range(0xE0, 0x100))
_SEPARATE = bytes(byte if byte in _LETTERS else 32 for byte in range(256))
_SPACE = ord(" ")
_ACCENTED = "àâæçéèêëîïôùûüÿ".encode("latin-1")  # and œ
_NOT_ACCENTED = bytes(byte for byte in range(256) if byte not in _ACCENTED)

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
_FRENCH_BYTES = frozenset(word.encode("latin-1") for word in _FRENCH_WORDS)
_ENGLISH_BYTES = frozenset(word.encode("latin-1") for word in _ENGLISH_WORDS)


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
    accents = 0
    if lowered.isascii():
        encoded = lowered.encode()
    else:
        lowered = lowered.replace("\u2019", "'").replace("\u2018", "'")
        encoded = lowered.replace("œ", "þ").encode("latin-1", "replace")
        accents = min(len(encoded.translate(None, _NOT_ACCENTED)) + lowered.count("œ"), 5)
    french, english = _word_counts(encoded)
    french += 2 * sum(lowered.count(p) for p in _FRENCH_PHRASES) + accents
    return "fr" if french > english else "en"


def _word_counts(encoded: bytes) -> tuple[int, int]:
    """(French words, English words) in lower-cased Latin-1 text."""
    letters = encoded.translate(_SEPARATE)
    words = letters.split()
    french = sum(map(_FRENCH_BYTES.__contains__, words))
    english = sum(map(_ENGLISH_BYTES.__contains__, words))
    joined_until, size = -1, len(letters)
    apostrophe = encoded.find(b"'")
    while apostrophe != -1:
        after = apostrophe + 1
        if (
            0 < apostrophe != joined_until  # its first word is not the end of a joined pair
            and letters[apostrophe - 1] != _SPACE
            and after < size
            and letters[after] != _SPACE
        ):
            start = letters.rfind(b" ", 0, apostrophe) + 1
            end = letters.find(b" ", after)
            joined_until = end = size if end == -1 else end
            first, second, joined = (
                letters[start:apostrophe],
                letters[after:end],
                encoded[start:end],
            )
            french += (
                (joined in _FRENCH_BYTES) - (first in _FRENCH_BYTES) - (second in _FRENCH_BYTES)
            )
            english += (
                (joined in _ENGLISH_BYTES) - (first in _ENGLISH_BYTES) - (second in _ENGLISH_BYTES)
            )
        apostrophe = encoded.find(b"'", after)
    return french, english
