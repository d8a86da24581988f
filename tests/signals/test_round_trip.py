"""Signal.from_dict is the exact inverse of to_dict, through JSON, for every sample payload:
a signal recorded by the webhook is processed later as the very signal that arrived."""

from __future__ import annotations

import json

import pytest

from remediation.signals import Signal, SignalError, parse_batch, signals_from_payload
from tests.signals.conftest import EVENTS, read_event

SAMPLES = sorted(p.name for p in EVENTS.glob("*.json") if "subscription_validation" not in p.name)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_signal_survives_a_round_trip_through_json(name):
    signals = parse_batch(read_event(name))
    assert signals
    for signal in signals:
        recorded = json.loads(json.dumps(signal.to_dict()))
        back = Signal.from_dict(recorded)
        assert back == signal
        assert back.extra == signal.extra  # not part of equality, still part of the signal
        assert back.dedup_key == signal.dedup_key
        assert back.to_dict() == recorded


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.pop("source"), "source"),
        (lambda d: d.update(source="carrier-pigeon"), "carrier-pigeon"),
        (lambda d: d.update(time="yesterday"), "yesterday"),
        (lambda d: d.update(codes=[1, 2]), "codes must be strings"),
        (lambda d: d.update(message=None), "string message"),
        (lambda d: d.update(colour="blue"), "unknown fields"),
        (lambda d: d.update(vm=["erp-app-03"]), "vm must be a string or null"),
        (lambda d: d.update(status=3), "status must be a string or null"),
        (lambda d: d.update(resolved="no"), "resolved must be true or false"),
    ],
)
def test_a_damaged_record_is_a_signal_error_with_the_reason(change, reason):
    [signal] = signals_from_payload(read_event("common_alert_backup_failure_rp_limit.json"))
    data = signal.to_dict()
    change(data)
    with pytest.raises(SignalError, match=reason):
        Signal.from_dict(data)


def test_a_record_that_is_not_an_object_is_refused():
    with pytest.raises(SignalError, match="must be an object"):
        Signal.from_dict(["common-alert", "text"])
