"""Work that keeps killing its worker is given up, whatever brings it back: in Azure a message
dead-lettered after five deliveries could return through the timer's sweeps (a signal sent
again under a new attempt id, a run's step resumed once its lease expired)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from remediation.engine import MAX_TRIES, SEEN
from remediation.queue.base import StepMessage
from remediation.runs import MAX_CRASHES, new_run
from tests.engine.signals import rp_limit_alert


def test_a_signal_whose_processing_keeps_failing_is_abandoned_not_sent_again(engine, monkeypatch):
    signal = rp_limit_alert("erp-app-03")
    asyncio.run(engine.accept(signal))
    key = signal.dedup_key

    def crashing(signal):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(engine.classifier, "classify", crashing)
    for _ in range(MAX_TRIES):  # each delivery dies mid-way, as a dead-lettering message does
        with pytest.raises(RuntimeError):
            engine.process(key)
    monkeypatch.undo()
    engine.process(key)  # the sixth: given up, not processed
    assert engine.store.get(SEEN, key[:2], key).data["state"] == "abandoned"
    assert engine.incidents.open_incidents() == []
    assert engine.requeue_unprocessed(older_than=timedelta(0)) == 0


def test_a_step_that_keeps_killing_its_worker_fails_the_run_with_a_reason(engine):
    incident_id = engine.ingest(rp_limit_alert("vm-1")).incident_id
    run = new_run("diagnose", incident_id, "vm-1", {"vm": "vm-1"}, "policy:auto", engine.clock())
    run.update(state="queued", seq=7)
    step = engine.playbooks["diagnose"].steps[0].name
    run["journal"] = [{"step": step, "phase": "start", "time": "2026-12-03T10:00:00+00:00"}
                      for _ in range(MAX_CRASHES)]  # fmt: skip
    engine.runs.add(run)
    engine.runner.handle(StepMessage(run["id"], 0, 7))
    after = engine.runs.get(run["id"])
    assert after["state"] == "failed"
    assert after["failure"] == f"{step} stopped its worker {MAX_CRASHES} times"
