"""`serve`: run the Function App locally, as Azure would, on 127.0.0.1."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PLAYGROUND_PORT = 56150  # the Playground's own default


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the functions locally (HTTP routes, timer, queue) on 127.0.0.1",
        description="Mounts the functions function_app.py registers: /api/alerts, "
        "/api/eventgrid, /api/messages, the poller timer and the remediation queue. "
        "--simulate adds the ARM simulator with a demo estate and the dev chat page at /dev/; "
        "its state is kept in .state/ and resumed on the next start unless --reset.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7071, help="port (default 7071)")
    parser.add_argument(
        "--simulate", action="store_true", help="use the ARM simulator with a demo estate"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="with --simulate: start a fresh demo instead of resuming the state in .state/",
    )
    parser.add_argument("--replay", type=Path, help="post the payloads of this JSONL file")
    parser.add_argument(
        "--playground",
        action="store_true",
        help="with --simulate: also start the Microsoft 365 Agents Playground (npm, from "
        "node_modules) on 127.0.0.1, talking to the bot through a dev-only signing bridge",
    )
    parser.add_argument(
        "--playground-port",
        type=int,
        default=DEFAULT_PLAYGROUND_PORT,
        help="port of the Playground's web client and connector (default %(default)s)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from devtools.localhost.serve import serve

    playground_port = args.playground_port if args.playground else None
    return serve(args.host, args.port, args.simulate, args.replay, args.reset, playground_port)
