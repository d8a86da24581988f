# ruff: noqa: RUF001  (typographic quotes are part of the sample texts)
"""Classification cost against plain JSON handling of the same lines.

`python -m bench.classify_bench [N]`: N mixed lines (default 20,000) of raw error texts and the
payload samples in tests/events/; times (a) json parse + dump and (b) parse + parse_payload +
classify + dump, in the same run, then prints a table and one JSON line with the ratio.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

from remediation.classify import default_classifier
from remediation.commands.classify import classify_value
from remediation.signals import SignalError, parse_batch, parse_payload

ROOT = Path(__file__).resolve().parents[1]
TEXTS = (
    "VM: web-{n}. Error: Encountered timeout event 'DisposeArtefactsTimeout' in the state x.",
    "The upload of data for disk [ds1] web-{n}/d.vmdk, 6000C29a of virtual machine web-{n}; "
    "5012 didn’t complete within the expected time.",
    "An internal error occurred. [Generate Snapshot Hung] on vm-{n}",
    "Une erreur interne s’est produite. [Une autre tâche est déjà en cours] MV : app-{n}.",
    "Backup failed with an internal error - Please retry the operation in a few minutes ({n})",
    "First full backup is missing for this datasource {n}.",
)


def sample_lines(count: int) -> list[str]:
    payloads = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "tests" / "events").glob("*.json"))
    ]
    kinds = itertools.cycle([*(("text", t) for t in TEXTS), *(("payload", p) for p in payloads)])
    lines = []
    for n, (kind, item) in zip(range(count), kinds, strict=False):
        lines.append(json.dumps(item.format(n=n) if kind == "text" else item))
    return lines


def timed(work, lines: list[str]) -> float:
    start = time.perf_counter()
    for line in lines:
        work(line)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    lines = sample_lines(int(argv[0]) if argv else 20_000)
    classify_value("warm-up")

    def baseline(line: str) -> str:
        return json.dumps(json.loads(line))

    def classified(line: str) -> str:
        return "\n".join(json.dumps(r) for r in classify_value(json.loads(line)))

    signals = []
    for line in lines:
        value = json.loads(line)
        try:
            signals += parse_batch(value) if isinstance(value, list) else [parse_payload(value)]
        except SignalError:
            continue
    classifier = default_classifier()

    plain = min(timed(baseline, lines) for _ in range(3))
    full = min(timed(classified, lines) for _ in range(3))
    alone = min(timed(classifier.classify, signals) for _ in range(3))
    rows = (
        ("json parse + dump", plain),
        ("parse + signal + classify + dump", full),
        ("classify only (signals parsed beforehand)", alone),
    )
    print(f"{'step':<44}{'seconds':>10}{'us/line':>10}")
    for name, seconds in rows:
        print(f"{name:<44}{seconds:>10.3f}{seconds / len(lines) * 1e6:>10.1f}")
    print(
        json.dumps(
            {
                "lines": len(lines),
                "baseline_s": round(plain, 4),
                "classify_s": round(full, 4),
                "ratio": round(full / plain, 2),
                "classify_only_ratio": round(alone / plain, 2),
                "target": 2.0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
