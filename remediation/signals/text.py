"""Text normalisation and error-code spotting shared by every parser."""

from __future__ import annotations

import re
from collections.abc import Iterable

from remediation.textnorm import memo

MAX_MESSAGE_CHARS = 8192
"""Messages are capped so a huge payload cannot blow up memory downstream (cards, store, logs)."""

_AKA_MS = re.compile(r"aka\.ms/AB-([A-Za-z0-9_]+)", re.IGNORECASE)
_PREFIXED = re.compile(
    r"(?<![\w.+/])(?:AzureWorkloadUserError|UserError|Extension|GuestAgent|Back[Uu]pOperation"
    r"|VMSnapshot|VmSnapshot)[A-Z0-9][A-Za-z0-9]*(?![\w+])"
)
_PREFIX_LITERALS = ("UserError", "Extension", "GuestAgent", "pOperation", "Snapshot")
_CAMEL = re.compile(r"(?<![\w.+/'\u2018«-])[A-Z][A-Za-z0-9]{5,}(?![\w+'\u2019»-]|\.\w)")
_HUMP = re.compile(r"[A-Z][a-z0-9]+")
_NUMERIC_ID = re.compile(
    r"(?:error\s*(?:id|code)|(?:id|code)\s+d['\u2019]\s*erreur)[\s:*=#]{0,8}(\d{3,7})\b",
    re.IGNORECASE,
)
_VM_IN_TEXT = re.compile(
    r"\b(?:VM|MV)\s*:\s*['\u2018«]?\s*([A-Za-z0-9][\w.-]{0,63}?)['\u2019»]?(?=[.,;\s]|$)"
)


def clean_text(value: str, limit: int = MAX_MESSAGE_CHARS) -> tuple[str, int | None]:
    """Strip NULs and outer blanks and cap the length; also return the original length if cut."""
    text = value.replace("\x00", "").strip()
    if len(text) <= limit:
        return text, None
    return text[:limit], len(text)


def _unique(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for code in codes:
        if code and code.lower() not in seen:
            seen.add(code.lower())
            result.append(code)
    return result


def _is_camel_code(token: str) -> bool:
    return len(_HUMP.findall(token)) >= 3 and not token.isupper()


def aka_ms_codes(text: str) -> list[str]:
    """Codes named by Azure Backup's https://aka.ms/AB-<code> troubleshooting links."""
    return list(_aka_ms_codes(text))


@memo
def _aka_ms_codes(text: str) -> tuple[str, ...]:
    # Only ASCII letters and the Kelvin sign lower to the letters of "aka.m" (the regex ignores
    # case), so a text without it in lower case holds no link.
    return tuple(_unique(_AKA_MS.findall(text))) if "aka.m" in text.lower() else ()


def find_codes(text: str) -> list[str]:
    """Error codes written in free text: aka.ms/AB-<code>, UserError*/Extension*-style names,
    other CamelCase error names (DisposeArtefactsTimedOut) and "Error ID: 181008" numbers."""
    return list(_codes_in(text))


@memo
def _codes_in(text: str) -> tuple[str, ...]:
    # Each pattern needs a literal the text must hold; checking it first skips most regex scans.
    # The case-insensitive one is tested on the lower-cased text: only E and R lower to e and r.
    found = list(_aka_ms_codes(text))
    if any(literal in text for literal in _PREFIX_LITERALS):
        found += _PREFIXED.findall(text)
    found += [t for t in _CAMEL.findall(text) if _is_camel_code(t)]
    if "err" in text.lower():
        found += _NUMERIC_ID.findall(text)
    return tuple(_unique(found))


def merge_codes(*groups: Iterable[str]) -> tuple[str, ...]:
    """Concatenate code lists, dropping blanks and case-insensitive duplicates, keeping order."""
    return tuple(_unique(code.strip() for group in groups for code in group))


def find_vm(text: str) -> str | None:
    """The VM named as "VM: name" (or French "MV : name") in Azure's replication messages."""
    match = _VM_IN_TEXT.search(text)
    return match.group(1) if match else None


def join_text(*parts: str | None) -> str:
    """Join the non-empty parts on new lines, skipping a part already contained in another."""
    kept: list[str] = []
    for part in parts:
        part = (part or "").strip()
        if part and not any(part in other for other in kept):
            kept.append(part)
    return "\n".join(kept)
