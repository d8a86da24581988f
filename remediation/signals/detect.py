"""Decide which parser a payload needs and run it, turning every failure into SignalError."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from remediation.signals.model import Signal, SignalError
from remediation.signals.raw_text import RawText
from remediation.signals.wrapper import type_name

_STRAY_ERRORS = (LookupError, TypeError, AttributeError, ValueError, RecursionError, OverflowError)

SignalsParser = Callable[[Mapping[str, Any]], list[Signal]]
_DETECTORS: list[tuple[str, Callable[[Mapping[str, Any]], bool], SignalsParser]] = []


def _signals_of_dict(data: Mapping[str, Any]) -> list[Signal]:
    for _label, matches, parser in _DETECTORS:
        if matches(data):
            return parser(data)
    looked_for = ", ".join(label for label, _m, _p in _DETECTORS) or "nothing yet"
    keys = ", ".join(sorted(str(k) for k in data)[:8])
    raise SignalError(f"not a supported payload: looked for {looked_for}; got keys [{keys}]")


def _guarded(value: object) -> list[Signal]:
    if isinstance(value, str):
        return [RawText(value).to_signal()]
    if isinstance(value, list):
        raise SignalError("a JSON array is a batch: use parse_batch for lists of events")
    if not isinstance(value, Mapping):
        raise SignalError(f"unsupported payload type: {type_name(value)} (expected object or text)")
    return _signals_of_dict(value)


def signals_from_payload(value: object) -> list[Signal]:
    """Every signal one payload holds (a migration item's health errors, a log alert's rows)."""
    try:
        signals = _guarded(value)
    except SignalError:
        raise
    except _STRAY_ERRORS as exc:
        raise SignalError(f"malformed payload: {type(exc).__name__}: {exc}"[:300]) from exc
    if not signals:
        raise SignalError("payload holds no signal")
    return signals


def parse_payload(value: object) -> Signal:
    """The main signal of one payload: text is raw error text, an object is detected by shape."""
    return signals_from_payload(value)[0]
