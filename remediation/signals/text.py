"""Text normalisation and error-code spotting shared by every parser."""

from __future__ import annotations

import re
from collections.abc import Iterable

from remediation.textnorm import memo

MAX_MESSAGE_CHARS = 8192
"""Messages are capped so a huge payload cannot blow up memory downstream (cards, store, logs)."""

_AKA_MS = re.compile(r"aka\.ms/AB-([A-Za-z0-9_]+)", re.IGNORECASE)
# A code must not continue a word, a dotted name or a path: each pattern below is searched from
# its first letters (the regex engine skips ahead to them) and the character before a match
# is checked after, which finds the same codes as a look-behind in front, in a fraction of
# the time.
_PREFIXED = re.compile(
    r"(?:AzureWorkloadUserError|UserError|Extension|GuestAgent|Back[Uu]pOperation"
    r"|VMSnapshot|VmSnapshot)[A-Z0-9][A-Za-z0-9]*(?![\w+])"
)
_NOT_BEFORE_PREFIXED = "_.+/"
_PREFIX_LITERALS = (
    "UserError",
    "Extension",
    "GuestAgent",
    "pOperation",
    "VMSnapshot",
    "VmSnapshot",
)
_CAMEL = re.compile(r"[A-Z](?<![\w.+/'\u2018«-][A-Z])[A-Za-z0-9]{5,}(?![\w+'\u2019»-]|\.\w)")
_HUMP = re.compile(r"[A-Z][a-z0-9]+")
# "Error ID: 181008" and "ID d'erreur : 1010": two patterns, each run only when the text holds
# its word (a match cannot cross from one into the other, so their matches merge by position).
_ERROR_ID = re.compile(r"error\s*(?:id|code)[\s:*=#]{0,8}(\d{3,7})\b", re.IGNORECASE)
_ERREUR_ID = re.compile(r"(?:id|code)\s+d['\u2019]\s*erreur[\s:*=#]{0,8}(\d{3,7})\b", re.IGNORECASE)
_VM_IN_TEXT = re.compile(
    r"\b(?:VM|MV)\s*:\s*['\u2018«]?\s*([A-Za-z0-9][\w.-]{0,63}?)['\u2019»]?(?=[.,;\s]|$)"
)


def clean_text(value: str, limit: int = MAX_MESSAGE_CHARS) -> tuple[str, int | None]:
    """Strip NULs and outer blanks and cap the length; also return the original length if cut."""
    text = value.replace("\x00", "").strip()
    if len(text) <= limit:
        return text, None
    return text[:limit], len(text)


def _is_camel_code(token: str) -> bool:
    return len(_HUMP.findall(token)) >= 3 and not token.isupper()


def aka_ms_codes(text: str) -> list[str]:
    """Codes named by Azure Backup's https://aka.ms/AB-<code> troubleshooting links."""
    return list(_aka_ms_codes(text))


@memo
def _aka_ms_codes(text: str) -> tuple[str, ...]:
    # Only ASCII letters and the Kelvin sign lower to the letters of "aka.m" (the regex ignores
    # case), so a text without it in lower case holds no link.
    return merge_codes(_AKA_MS.findall(text)) if "aka.m" in text.lower() else ()


def find_codes(text: str) -> list[str]:
    """Error codes written in free text: aka.ms/AB-<code>, UserError*/Extension*-style names,
    other CamelCase error names (DisposeArtefactsTimedOut) and "Error ID: 181008" numbers."""
    return list(_codes_in(text))


@memo
def _codes_in(text: str) -> tuple[str, ...]:
    # Each pattern needs a literal the text must hold; checking it first skips most regex scans.
    # The case-insensitive ones are tested on the lower-cased text: only ASCII letters lower to
    # the letters of "error" and "erreur".
    found = list(_aka_ms_codes(text))
    if any(map(text.__contains__, _PREFIX_LITERALS)):
        found += _prefixed_codes(text)
    found += [t for t in _CAMEL.findall(text) if _is_camel_code(t)]
    lowered = text.lower()
    if "err" in lowered:
        found += _numeric_ids(text, lowered)
    return merge_codes(found)


def _prefixed_codes(text: str) -> list[str]:
    found = []
    for match in _PREFIXED.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] in _NOT_BEFORE_PREFIXED):
            continue
        found.append(match.group())
    return found


def _numeric_ids(text: str, lowered: str) -> list[str]:
    matches = list(_ERROR_ID.finditer(text)) if "error" in lowered else []
    if "erreur" in lowered:
        matches += _ERREUR_ID.finditer(text)
        matches.sort(key=lambda match: match.start())
    return [match.group(1) for match in matches]


def merge_codes(*groups: Iterable[str]) -> tuple[str, ...]:
    """Concatenate code lists, dropping blanks and case-insensitive duplicates, keeping order."""
    seen: set[str] = set()
    result = []
    for group in groups:
        for code in group:
            code = code.strip()
            if code:
                folded = code.lower()
                if folded not in seen:
                    seen.add(folded)
                    result.append(code)
    return tuple(result)


def find_vm(text: str) -> str | None:
    """The VM named as "VM: name" (or French "MV : name") in Azure's replication messages."""
    match = _VM_IN_TEXT.search(text)
    return match.group(1) if match else None


def join_text(*parts: str | None) -> str:
    """Join the non-empty parts on new lines, skipping a part already contained in another."""
    kept: list[str] = []
    for part in parts:
        if part:
            part = part.strip()
            if part:
                for other in kept:
                    if part in other:
                        break
                else:
                    kept.append(part)
    return "\n".join(kept)
