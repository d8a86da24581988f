"""`explain "<error text, code or entry id>"`: what the catalogue knows about an error."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain an error message, error code or catalogue entry id",
        description="Print the catalogue entry for an error: cause, fix steps, documentation "
        "and automation. Answers in the language of the text unless --lang is given.",
    )
    parser.add_argument("query", help="error text, error code (UserError..., 1011) or entry id")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--lang", choices=("en", "fr"), help="answer in this language")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from remediation.explain import explain, render_text

    explanation = explain(args.query, args.lang)
    if args.json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
    else:
        stream = sys.stdout if explanation.entries else sys.stderr
        print(render_text(explanation), file=stream)
    return 0 if explanation.entries else 1
