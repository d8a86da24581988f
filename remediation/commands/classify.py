"""`classify --jsonl`: one JSON value per stdin line in, one classification per line out.

A bad line (not UTF-8, not JSON, too large, not a supported payload) becomes an error record
and the run goes on; the exit code is 1 only when no line could be classified at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

if TYPE_CHECKING:
    from remediation.signals import Signal

MAX_LINE_BYTES = 1 << 20
_DRAIN_CHUNK = 1 << 16
_BOM = b"\xef\xbb\xbf"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify error payloads or texts against the catalogue",
        description="Classify signals. With --jsonl, read one JSON value per line on stdin (a "
        "string is raw error text, an object any supported payload) and write one JSON object "
        "per line. Otherwise classify the TEXT arguments.",
    )
    parser.add_argument("text", nargs="*", help="raw error text (when not using --jsonl)")
    parser.add_argument("--jsonl", action="store_true", help="read JSON lines from stdin")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.jsonl == bool(args.text):
        print("classify: give either --jsonl (reading stdin) or TEXT", file=sys.stderr)
        return 2
    if args.text:
        [record] = classify_value(" ".join(args.text))
        print(json.dumps(record, ensure_ascii=False))
        return 0 if "error" not in record else 1
    classified = classify_stream(sys.stdin.buffer, sys.stdout)
    if not classified:
        print("classify: no line could be classified", file=sys.stderr)
    return 0 if classified else 1


def classify_stream(source: BinaryIO, out: TextIO) -> int:
    """Classify every line of `source` onto `out`; return how many lines were classified.

    A JSON array (an Event Grid batch) gives one record per event, all with its line number.
    """
    classified = 0
    for number, raw, size in _lines(source):
        if raw is None:
            records = [_error(number, f"line too large: {size} bytes, limit {MAX_LINE_BYTES}")]
        else:
            records = _records_for(number, raw)
        for record in records:
            classified += "error" not in record
            out.write(json.dumps(record) + "\n")
    out.flush()
    return classified


def classify_value(value: Any, number: int | None = None) -> list[dict[str, Any]]:
    """Parse one JSON value into signals and classify them; errors become an error record."""
    import remediation.signals as parsers  # here, not above: the other commands start faster

    try:
        signals = (
            parsers.parse_batch(value)
            if isinstance(value, list)
            else [parsers.parse_payload(value)]
        )
    except parsers.SignalError as exc:
        return [_error(number, str(exc))]
    return [verdict_record(signal, number) for signal in signals]


def verdict_record(signal: Signal, number: int | None = None) -> dict[str, Any]:
    """What `classify --jsonl` prints for one signal (also the benchmark's verdict)."""
    import remediation.classify as classifier  # the import form that costs least per call

    found = classifier.default_classifier().classify(signal)
    entry, language = found.entry, found.language
    verdict = {
        "entry_id": found.entry_id,
        "vm": found.vm,
        "source": str(signal.source),  # the StrEnum's value
        "matched": found.matched,
        "matched_by": found.matched_by,
        "score": found.score,
        "language": language,
        "codes": list(signal.codes),
        "title": entry.title.get(language) if entry else None,
    }
    return verdict if number is None else {"line": number, **verdict}


def _records_for(number: int, raw: bytes) -> list[dict[str, Any]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [_error(number, f"invalid UTF-8 at byte {exc.start}: {exc.reason}")]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [_error(number, f"invalid JSON: {exc.msg} at column {exc.colno}")]
    except RecursionError:
        return [_error(number, "invalid JSON: nested too deeply")]
    return classify_value(value, number)


def _lines(source: BinaryIO) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, stripped bytes or None when too large, size); blank lines are skipped.

    Reads at most MAX_LINE_BYTES + 1 of a line at once, so a huge line costs no memory.
    """
    number = 0
    while True:
        raw = source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        size = len(raw)
        if size > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = source.readline(_DRAIN_CHUNK)
                size += len(raw)
            yield number, None, size - raw.endswith(b"\n")
            continue
        stripped = raw.strip()
        if number == 1 and stripped.startswith(_BOM):
            stripped = stripped[len(_BOM) :].strip()
        if stripped:
            yield number, stripped, size


def _error(number: int | None, reason: str) -> dict[str, Any]:
    return {"line": number, "error": reason, "entry_id": None, "vm": None, "source": None}
