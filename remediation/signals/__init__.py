"""Turn every source payload (alerts, events, polled resources, log rows, pasted text) into a
normalised Signal. `parse_payload` is the entry point; errors are always `SignalError`."""

from remediation.signals.detect import parse_batch, parse_payload, signals_from_payload
from remediation.signals.eventgrid import ValidationHandshake, is_validation_event
from remediation.signals.language import detect_language
from remediation.signals.model import Signal, SignalError, SourceKind

__all__ = [
    "Signal",
    "SignalError",
    "SourceKind",
    "ValidationHandshake",
    "detect_language",
    "is_validation_event",
    "parse_batch",
    "parse_payload",
    "signals_from_payload",
]
