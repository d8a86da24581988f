"""Adaptive Cards checked against Microsoft's official 1.5 schema (schema/README.md says where
it comes from), so a card that a client would refuse or misrender fails the test that sent it."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, ValidationError

from bot.model import CARD_CONTENT_TYPE

SCHEMA = Path(__file__).with_name("schema") / "adaptive-card-1.5.json"


@functools.cache
def _validator() -> Draft6Validator:
    definitions = json.loads(SCHEMA.read_text(encoding="utf-8"))["definitions"]
    # The schema's root is anyOf [AdaptiveCard]; pointing at the definition gives errors that
    # name the element at fault instead of "not valid under any of the given schemas".
    return Draft6Validator({"$ref": "#/definitions/AdaptiveCard", "definitions": definitions})


def card_problems(card: Any) -> list[str]:
    """What the schema refuses in `card`, each as `/<json path>: <reason>`; [] when valid."""
    found = [error for top in _validator().iter_errors(card) for error in _causes(top)]
    return sorted(f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in found)


def _causes(error: ValidationError) -> list[ValidationError]:
    """An element is checked against every element type (anyOf); its real faults are those
    of the type it names."""
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context or ():
        branches[sub.relative_schema_path[0]].append(sub)
    named = [errs for errs in branches.values() if not any(map(_other_kind, errs))]
    if len(named) != 1:
        return [error]
    return [cause for sub in named[0] for cause in _causes(sub)]


def cards_in(activity: Any) -> list[Any]:
    """The Adaptive Cards attached to an activity (or to a new conversation's activity)."""
    if not isinstance(activity, dict):
        return []
    activity = activity.get("activity", activity)
    attachments = activity.get("attachments") if isinstance(activity, dict) else None
    return [
        a.get("content")
        for a in attachments or ()
        if isinstance(a, dict) and a.get("contentType") == CARD_CONTENT_TYPE
    ]


def _other_kind(error: ValidationError) -> bool:
    """The branch is for another element type, or for another JSON type (a string inline)."""
    return list(error.path) == ["type"] or (error.validator == "type" and not error.path)
