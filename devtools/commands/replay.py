"""`replay FILE --simulate`: the whole pipeline on recorded signals, against the ARM simulator."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run recorded signals through the whole pipeline against the ARM simulator",
        description="Reads FILE (a JSON array or one payload per line), derives an estate from "
        "the signals, runs ingestion, approvals and playbooks against the local ARM simulator "
        "and prints a summary (the last line with --json).",
    )
    parser.add_argument("file", type=Path, help="JSON array or JSON lines of payloads")
    parser.add_argument(
        "--simulate", action="store_true", required=True,
        help="run against the local ARM simulator (the only mode: replay never touches Azure)",
    )  # fmt: skip
    parser.add_argument(
        "--approve", choices=("all", "none"), default="none",
        help="approve every fix that waits for approval (default: none)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--state-out", type=Path, help="write the simulator's final estate here")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from devtools.replay import ReplayError, replay

    def progress(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        summary, state = replay(args.file, args.approve, progress)
    except ReplayError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    if args.state_out:
        args.state_out.parent.mkdir(parents=True, exist_ok=True)
        args.state_out.write_text(json.dumps(state, indent=2, default=str))
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:>14}: {value}")
    return 0 if summary["signals"] else 1
