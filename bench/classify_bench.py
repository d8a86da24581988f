# ruff: noqa: RUF001  (typographic quotes are part of the sample texts)
"""Classification cost against plain JSON handling of the same lines, on distinct inputs.

`python -m bench.classify_bench [N]`: N inputs (default 20,000), every one distinct: raw error
texts and every payload sample of tests/events/ and tests/corpus/payloads/ (alerts, events,
jobs, migration items, list responses, log rows), each copy given its own VM names, ids and
times, so no line repeats (the repetition rate is printed: 0%). Messages still repeat where
Azure repeats them (a Backup alert's description names no VM), which is what per-text memo
caches exist for; their hit rate is printed too. Two stages are timed, each against JSON
parse + dump of its own lines, in the same run:

- **raw path** (the target, <= 3x, goal 2x): the raw inputs through the whole
  `classify --jsonl` path (detect the source, build Signals from the payload, classify, dump
  the verdict record);
- **classify** (<= 2x): the signals those inputs give, one Signal JSON per line as the store
  and queue carry them, through the classifier as the ingest worker runs it
  (`Signal.from_dict`, classify, dump the verdict record).

Every step is warmed up once, then timed REPEATS times in turns (so machine noise hits all
steps alike) and the best pass counts. Per-text memo caches are emptied before every pass:
a pass measures one cold stream.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from remediation.commands.classify import classify_value, verdict_record
from remediation.signals import Signal, SignalError, parse_batch, parse_payload
from remediation.textnorm import clear_memos, memo_stats

REPEATS = 5
TARGET = 2.0
RAW_TARGET = 3.0
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FOLDERS = (ROOT / "tests" / "events", ROOT / "tests" / "corpus" / "payloads")
TEXTS = (
    "VM: web-{n}. Error: Encountered timeout event 'DisposeArtefactsTimeout' in the state x.",
    "The upload of data for disk [ds1] web-{n}/d.vmdk, 6000C29a of virtual machine web-{n}; "
    "5012 didn’t complete within the expected time.",
    "An internal error occurred. [Generate Snapshot Hung] on vm-{n}",
    "Une erreur interne s’est produite. [Une autre tâche est déjà en cours] MV : app-{n}.",
    "Backup failed with an internal error - Please retry the operation in a few minutes ({n})",
    "First full backup is missing for this datasource {n}.",
    "VM is in Failed Provisioning State - Restart the VM app-{n}, and make sure it is running.",
    "L’agent de machine virtuelle ne peut pas communiquer avec la sauvegarde Microsoft Azure "
    "(MV : sql-{n})",
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-([0-9a-fA-F]{12})")
_TIME = re.compile(r"T\d\d:\d\d:\d\d")
_NAMES = re.compile(r"\b(erp-[a-z]+-\d\d|testvm|vm1|vm-0520-2|test-computer|test-VM|"
                    r"wcus-r2-gen2|vm-sql-prod-02|SQLVM-PRD-02)\b")  # fmt: skip


def payload_samples() -> list[str]:
    """Every sample payload that parses, serialised once."""
    samples = []
    for folder in SAMPLE_FOLDERS:
        for path in sorted(folder.glob("*.json")):
            text = path.read_text(encoding="utf-8")
            try:
                parse_batch(json.loads(text))
            except SignalError:
                continue
            samples.append(json.dumps(json.loads(text)))
    return samples


def _vary(serialised: str, n: int) -> str:
    """The sample with its own VM names, ids and times: a distinct but realistic input."""
    text = _NAMES.sub(lambda m: f"{m.group(1)}-{n}", serialised)
    text = _GUID.sub(lambda m: m.group(0)[:-12] + f"{n:012x}", text)
    return _TIME.sub(lambda m: f"T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}", text)


def sample_lines(count: int) -> list[str]:
    """`count` distinct JSON lines, texts and payloads in turns."""
    templates = [*(("text", t) for t in TEXTS), *(("payload", p) for p in payload_samples())]
    lines = []
    for n, (kind, template) in zip(range(count), itertools.cycle(templates), strict=False):
        lines.append(json.dumps(template.format(n=n)) if kind == "text" else _vary(template, n))
    return lines


def repetition_rate(lines: Sequence[str]) -> float:
    """The share of lines that repeat an earlier line."""
    return 1 - len(set(lines)) / len(lines) if lines else 0.0


def parsed(line: str) -> list[Signal]:
    value = json.loads(line)
    try:
        return parse_batch(value) if isinstance(value, list) else [parse_payload(value)]
    except SignalError:
        return []


def baseline(line: str) -> str:
    return json.dumps(json.loads(line)) + "\n"


def classified(line: str) -> str:
    return "".join(json.dumps(record) + "\n" for record in classify_value(json.loads(line)))


def verdict(line: str) -> str:
    return json.dumps(verdict_record(Signal.from_dict(json.loads(line)))) + "\n"


def timed(work: Callable[[Any], object], items: Sequence[Any]) -> tuple[float, float]:
    """(seconds, memo hit rate) of one cold pass."""
    clear_memos()
    start = time.process_time()
    for item in items:
        work(item)
    seconds = time.process_time() - start
    hits, misses = memo_stats()
    return seconds, hits / (hits + misses) if hits + misses else 0.0


def best_times(steps: Sequence[tuple[Callable[[Any], object], Sequence[Any]]]) -> list[tuple]:
    """Best of REPEATS passes per step (with that pass's memo hit rate), after one warm-up
    pass each, passes taken in turns."""
    for work, items in steps:
        timed(work, items)
    best = [(float("inf"), 0.0)] * len(steps)
    for _ in range(REPEATS):
        for index, (work, items) in enumerate(steps):
            best[index] = min(best[index], timed(work, items))
    return best


def main(argv: list[str]) -> int:
    lines = sample_lines(int(argv[0]) if argv else 20_000)
    recorded = [json.dumps(s.to_dict()) for line in lines for s in parsed(line)]
    floor_raw, raw, floor_signals, classify = best_times(
        [(baseline, lines), (classified, lines), (baseline, recorded), (verdict, recorded)]
    )
    rows = (
        (f"{len(lines):,} raw inputs: json parse + dump", floor_raw, len(lines)),
        ("  detect + parse + classify + dump (raw path)", raw, len(lines)),
        (f"{len(recorded):,} signals: json parse + dump", floor_signals, len(recorded)),
        ("  from_dict + classify + dump verdict", classify, len(recorded)),
    )
    print(f"{'step':<48}{'seconds':>9}{'us/line':>9}{'memo hits':>11}")
    for name, (seconds, hit_rate), count in rows:
        print(f"{name:<48}{seconds:>9.3f}{seconds / count * 1e6:>9.1f}{hit_rate:>11.1%}")
    raw_ratio, ratio = raw[0] / floor_raw[0], classify[0] / floor_signals[0]
    print(
        json.dumps(
            {
                "bench": "classify",
                "inputs": len(lines),
                "repetition_rate": round(repetition_rate(lines), 4),
                "raw_path_ratio": round(raw_ratio, 2),
                "raw_path_target": RAW_TARGET,
                "raw_path_memo_hit_rate": round(raw[1], 3),
                "signals": len(recorded),
                "signal_repetition_rate": round(repetition_rate(recorded), 4),
                "ratio": round(ratio, 2),
                "target": TARGET,
                "classify_memo_hit_rate": round(classify[1], 3),
                "met": raw_ratio <= RAW_TARGET and ratio <= TARGET,
            }
        )
    )
    return 0 if raw_ratio <= RAW_TARGET and ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
