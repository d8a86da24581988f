"""`make run`'s demo: `serve --simulate --replay` feeds the demo alerts through the real
webhook, dated the moment they are replayed (a fresh demo is not "first seen 549 d ago")."""

from __future__ import annotations

import time

import requests

from tests.localhost.process import ROOT, serve_simulated

DEMO = ROOT / "devtools" / "localhost" / "demo" / "alerts.jsonl"


def _say(base: str, text: str) -> str:
    answer = requests.post(
        base + "/dev/api/chat", json={"text": text}, headers={"Origin": base}, timeout=30
    )
    answer.raise_for_status()
    return answer.text


def test_the_demo_alerts_open_incidents_first_seen_now(tmp_path):
    with serve_simulated(tmp_path, args=["--replay", str(DEMO)]) as served:
        deadline = time.monotonic() + 30  # the replay starts once the host listens
        while "Open incidents: 2" not in _say(served.base, "status"):
            assert time.monotonic() < deadline, "the demo alerts opened no incidents"
            time.sleep(0.5)
        served.wait_processed()
        why = _say(served.base, "why did VM erp-app-03 fail")
        assert "first seen just now" in why, why
        assert " d ago" not in why
