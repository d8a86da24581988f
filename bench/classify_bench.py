# ruff: noqa: RUF001  (typographic quotes are part of the sample texts)
"""Classification cost against plain JSON handling of the same lines.

`python -m bench.classify_bench [N]`: N mixed inputs (default 20,000): raw error texts and the
payload samples of every source in tests/events/. Two stages are timed, each against JSON parse
+ dump of its own lines, in the same run:

- **classify** (the target, <= 2x): the signals those inputs give, one Signal JSON per line as
  the store and queue carry them, through the classifier as the ingest worker runs it
  (`Signal.from_dict`, classify, dump the verdict record `classify --jsonl` prints).
- **parse + classify**: the raw inputs through the whole `classify --jsonl` path (detect the
  source, build Signals from the payload, classify, dump). Parsing payloads is the parsers'
  cost, shown here so it stays in view; it has no target of its own.

Every step is warmed up once, then timed REPEATS times in turns (so machine noise hits all
steps alike) and the best pass counts. Per-message memo caches are emptied before every pass:
a pass measures one cold stream, where only lines repeated within the stream reuse earlier work.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from remediation.commands.classify import classify_value, verdict_record
from remediation.signals import Signal, SignalError, parse_batch, parse_payload
from remediation.textnorm import clear_memos

REPEATS = 5
TARGET = 2.0
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


def parsed(line: str) -> list[Signal]:
    """JSON parse and Signal building alone: where the full path spends most of its time."""
    value = json.loads(line)
    try:
        return parse_batch(value) if isinstance(value, list) else [parse_payload(value)]
    except SignalError:
        return []


def parsed_signals(lines: list[str]) -> list[Signal]:
    """The signals the pipeline classifies, for timing the classifier on its own."""
    return [signal for line in lines for signal in parsed(line)]


def baseline(line: str) -> str:
    return json.dumps(json.loads(line)) + "\n"


def classified(line: str) -> str:
    return "".join(json.dumps(record) + "\n" for record in classify_value(json.loads(line)))


def timed(work: Callable[[Any], object], items: Sequence[Any]) -> float:
    clear_memos()
    start = time.perf_counter()
    for item in items:
        work(item)
    return time.perf_counter() - start


def best_times(steps: Sequence[tuple[Callable[[Any], object], Sequence[Any]]]) -> list[float]:
    """Best of REPEATS passes per step, after one warm-up pass each, passes taken in turns."""
    for work, items in steps:
        timed(work, items)
    best = [float("inf")] * len(steps)
    for _ in range(REPEATS):
        for index, (work, items) in enumerate(steps):
            best[index] = min(best[index], timed(work, items))
    return best


def signal_lines(lines: list[str]) -> list[str]:
    """The recorded form of the signals the inputs give, one JSON object per line."""
    return [json.dumps(signal.to_dict()) for signal in parsed_signals(lines)]


def verdict(line: str) -> str:
    return json.dumps(verdict_record(Signal.from_dict(json.loads(line)))) + "\n"


def main(argv: list[str]) -> int:
    lines = sample_lines(int(argv[0]) if argv else 20_000)
    recorded = signal_lines(lines)
    plain_signals, classify_signals, plain_inputs, full, parse = best_times(
        [
            (baseline, recorded),
            (verdict, recorded),
            (baseline, lines),
            (classified, lines),
            (parsed, lines),
        ]
    )
    rows = (
        (f"{len(recorded):,} signals: json parse + dump", plain_signals, len(recorded)),
        ("  from_dict + classify + dump verdict", classify_signals, len(recorded)),
        (f"{len(lines):,} raw inputs: json parse + dump", plain_inputs, len(lines)),
        ("  parse payload + classify + dump", full, len(lines)),
        ("  parse payload only", parse, len(lines)),
    )
    print(f"{'step':<44}{'seconds':>10}{'us/line':>10}")
    for name, seconds, count in rows:
        print(f"{name:<44}{seconds:>10.3f}{seconds / count * 1e6:>10.1f}")
    ratio = classify_signals / plain_signals
    print(
        json.dumps(
            {
                "bench": "classify",
                "signals": len(recorded),
                "ratio": round(ratio, 2),
                "target": TARGET,
                "met": ratio <= TARGET,
                "inputs": len(lines),
                "parse_and_classify_ratio": round(full / plain_inputs, 2),
                "parse_only_ratio": round(parse / plain_inputs, 2),
            }
        )
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
