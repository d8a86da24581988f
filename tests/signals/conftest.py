"""Sample payloads for the signal parser tests live in tests/events/ (one JSON value a file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).resolve().parent.parent / "events"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"


def read_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def load_event() -> Callable[[str], Any]:
    """load_event("common_alert_backup_resolved.json") -> the parsed JSON value (a fresh copy)."""
    return read_event
