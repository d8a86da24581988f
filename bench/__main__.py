"""`python -m bench [ARGS]`: run every benchmark module in bench/ that exposes `main(argv)`.

Modules run in name order, each under a `# bench.<name>` heading, with the same ARGS; each
prints its own table and JSON line. The exit status is the worst of theirs.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from types import ModuleType

import bench


def benchmarks() -> list[tuple[str, Callable[[list[str]], int]]]:
    """(module name, main) for each bench module that has a callable `main`."""
    found = []
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module: ModuleType = importlib.import_module(f"{bench.__name__}.{info.name}")
        run = getattr(module, "main", None)
        if callable(run):
            found.append((module.__name__, run))
    return found


def main(argv: list[str]) -> int:
    status = 0
    for name, run in benchmarks():
        print(f"# {name}", flush=True)
        status = max(status, run(argv) or 0)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
