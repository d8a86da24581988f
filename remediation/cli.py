"""The command line: discovers the subcommands and runs one.

Subcommands are modules of remediation.commands and, where the dev tooling is present (not in
a deployment), of devtools.commands (`serve`, `replay`). Adding one means adding a module;
nothing here changes.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from remediation import __version__, commands

DEV_COMMANDS = "devtools.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m remediation",
        description="Classify Azure Migrate and Azure Backup failures and run safe fixes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    found = [
        (m.name, package)
        for package in _command_packages()
        for m in pkgutil.iter_modules(package.__path__)
    ]
    for name, package in sorted(found, key=lambda pair: pair[0]):
        module = importlib.import_module(f"{package.__name__}.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def _command_packages() -> list[ModuleType]:
    """The core's commands, plus the dev tooling's when it is installed beside the core."""
    packages: list[ModuleType] = [commands]
    if importlib.util.find_spec(DEV_COMMANDS.split(".")[0]) is not None:
        packages.append(importlib.import_module(DEV_COMMANDS))
    return packages


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)
