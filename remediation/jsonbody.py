"""JSON from the wire, read one way at every entry point (webhooks, the bot, the dev page).

`json.loads` accepts two things that break later steps: a lone UTF-16 surrogate written as an
escape ("\\ud800" is valid JSON, yet the text has no UTF-8 form, so hashing, storing or posting
it fails long after the sender got its answer), and nesting deep enough to exhaust the
recursion limit of a later `json.dumps`. Both are refused here with a reason, so a sender
learns at once and nothing half-built is left behind.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 200  # real payloads nest under 20 levels; Python's recursion limit is 1,000
# A surrogate reaches a str only through a \uD800-\uDFFF escape (strict UTF-8 decoding never
# yields one) or from text that was already a str: cheap to look for before a full check.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


class BadJson(ValueError):
    """The body cannot be used as JSON; the message says why, for the sender."""


def loads(data: bytes | str) -> Any:
    """The JSON value in `data` (UTF-8 bytes or text), or BadJson with the reason."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise BadJson("body is not UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadJson(f"body is not valid JSON: nested more than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BadJson(f"body is not valid JSON: {str(exc)[:120]}") from None
    # Both checks walk the value: only when the text could hold what they look for. Depth
    # first: the Unicode check serialises, which a deep value would make recurse too far.
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(value)
    if _SURROGATE.search(text):
        _check_unicode(value)
    return value


def check(value: Any) -> None:
    """BadJson for a value decoded elsewhere (the Functions runtime's Event Grid trigger)
    that holds unencodable text or nests too deep."""
    _check_depth(value)
    _check_unicode(value)


def _check_unicode(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson(
            "body is not valid Unicode: a lone UTF-16 surrogate (\\ud800-\\udfff without "
            "its pair) has no UTF-8 form"
        ) from None


def _check_depth(value: Any) -> None:
    if too_deep(value):
        raise BadJson(f"body is not valid JSON: nested more than {MAX_DEPTH} levels")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and objects in `value` nest more than `limit` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False
