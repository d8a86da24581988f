"""Subcommands of `python -m remediation`, one module each.

A module here is picked up automatically when it defines `register(subparsers)`, which adds its
parser and sets `handler=<function(args) -> exit code>` as a default. Keep imports of heavy
dependencies inside the handler so `--help` and the other commands stay fast.
"""
