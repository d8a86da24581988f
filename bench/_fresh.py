"""Probe scripts run by fresh interpreters, for benchmarks of start-up costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_runs(probe: str, runs: int) -> list[list[str]]:
    """What `probe` prints (split on whitespace) in each of `runs` new processes at the root."""
    return [
        subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(runs)
    ]
