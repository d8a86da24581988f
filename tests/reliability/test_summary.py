"""The end-of-run reliability summary: tallies, the table, and the hook in a real pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.reliability.summary import SUMMARY_FILE, Tally, table

ROOT = Path(__file__).resolve().parents[2]


def test_counts_add_up_and_max_counts_keep_the_largest():
    tally = Tally()
    tally.record("arm chaos", fixes=3, max_writes_10s=12)
    tally.record("arm chaos", fixes=3, max_writes_10s=7)
    assert tally.suites() == {"arm chaos": Counter(fixes=6, max_writes_10s=12)}


def test_table_rows_say_what_was_tried_and_what_was_lost():
    tally = Tally()
    for route in ("/api/alerts", "/api/alerts", "/api/messages"):
        tally.record("fuzz", payloads=1, refused=1, answered_5xx=0, **{"to_" + route: 1})
    tally.record("redelivery", messages=3, deliveries=15, effects=4)
    tally.record("replay storm", kills=2)
    for route in ("/api/alerts", "/api/eventgrid", "/runtime/webhooks/eventgrid"):
        tally.record("ingestion auth", requests=4, max_shapes=4, accepted=0, stored=0,
                     **{"to_" + route: 4})  # fmt: skip
    tally.record("host crash", tries=3, workers_left_alive=0)
    rows = table(tally.suites()).splitlines()
    assert rows[0] == "| Suite | Tried | Nothing lost |"
    assert rows[2:] == [
        "| fuzz | 3 hostile payloads over HTTP to 2 endpoints (/api/alerts 2, /api/messages 1) "
        "| 0 x 5xx, 3 refused with a reason, 0 stored by a refusal |",
        "| redelivery | 3 messages x5, concurrently | 4 effects for 3 |",
        "| ingestion auth | 12 requests without the secret (4 shapes) to 3 ingestion routes "
        "(/api/alerts 4, /api/eventgrid 4, /runtime/webhooks/eventgrid 4) | 0 accepted, 0 stored |",
        "| host crash | 3 kill -9 of the local host, its queue worker idle, frozen or mid-step "
        "| 0 workers left alive |",
        "| replay storm | 2 kills |  |",
    ]


TEST_THAT_RECORDS = """
from tests.reliability.summary import record

def test_it():
    record("secrets", artefacts=2, characters=10, known_values=1, token_shapes=1, leaks=0)
"""


def _pytest(folder: Path, *args: str) -> str:
    """A separate pytest run in `folder` with the project's conftest as its only plugin."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_table_is_printed_and_saved_only_when_a_reliability_suite_ran(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for folder in ("reliability", "other"):
        (tmp_path / "tests" / folder).mkdir(parents=True)
        (tmp_path / "tests" / folder / f"test_{folder}.py").write_text(TEST_THAT_RECORDS)
    saved = tmp_path / ".pytest_cache" / SUMMARY_FILE

    assert "reliability summary" not in _pytest(tmp_path, "tests/other")
    assert not saved.exists()

    out = _pytest(tmp_path, "tests")
    expected = (
        "| secrets | 4 artefacts (20 characters) scanned for 2 secrets and sent tokens "
        "and 2 token shapes | 0 leaks |"
    )
    assert "reliability summary" in out and expected in out
    assert expected in saved.read_text()
