"""Mutation testing of the checks between a signal and a write (`make mutate`).

mutmut (configured in pyproject.toml) mutates the listed modules one change at a time and runs,
for each mutant, only the tests that call the mutated function (recorded once, in its stats
run). This script runs it one unit at a time, reads back each mutant's verdict, sets aside the
mutants listed as equivalent in tests/mutation/equivalent.toml, and prints the kill rate of each
target; it fails when a target is under 90%.

    python -m devtools.mutation run [TARGET ...]   every mutant of the targets (default: all)
    python -m devtools.mutation run --quick        about one mutant in ten of every target
    python -m devtools.mutation report [--survivors] [--markdown]

A target is a module, or the functions of a module that make its safety checks (the engine's
limits and switches, the incidents' identity checks).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.toml"
FLOORS = ROOT / "tests" / "mutation" / "floors.toml"
TARGET_RATE = 0.90
FLOOR_MARGIN = 0.05  # a floor sits this far under the full run's rate: code moves a little
QUICK_DIGIT = "7"  # the quick run takes the mutants whose number ends in this digit
SEP = "ǁ"  # mutmut's separator between class and method in a mutant's name

KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout",
          152: "timeout", 255: "timeout", -9: "timeout", -11: "crashed"}  # fmt: skip
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests"}


@dataclass(frozen=True)
class Target:
    """What one kill rate is about: a module, or some of its functions."""

    name: str
    path: str  # the source file, relative to the root
    functions: tuple[str, ...] = ()  # "Class.method" or "function"; empty: the whole module

    @property
    def module(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")

    def globs(self, quick: bool = False) -> list[str]:
        tail = f"*{QUICK_DIGIT}" if quick else "*"
        if not self.functions:
            return [f"{self.module}.*__mutmut_{tail}"]
        return [f"{self.module}.{_mangled(f)}__mutmut_{tail}" for f in self.functions]

    def owns(self, mutant: str) -> bool:
        return any(fnmatch.fnmatchcase(mutant, g) for g in self.globs())

    def owns_function(self, dotted: str) -> bool:
        """remediation.engine.Engine._blockers: is that function one this target mutates?"""
        module, _, function = dotted.partition(self.module + ".")
        return not module and bool(function) and (not self.functions or function in self.functions)


def _mangled(function: str) -> str:
    cls, _, name = function.rpartition(".")
    return f"x{SEP}{cls}{SEP}{name}" if cls else f"x_{name}"


def _readable(mutant: str) -> str:
    """remediation.engine.xǁEngineǁ_blockers__mutmut_3 -> remediation.engine.Engine._blockers"""
    head, _, _ = mutant.partition("__mutmut_")
    module, _, mangled = head.rpartition(".")
    if mangled.startswith("x" + SEP):
        _, cls, name = mangled.split(SEP)
        return f"{module}.{cls}.{name}"
    return f"{module}.{mangled.removeprefix('x_')}"


PLAYBOOKS = [
    "backup_steps", "base", "cleanup_restore_points", "diagnose", "findings", "keyvaults",
    "preconditions", "privatelink", "repair_replication", "reset_snapshot_extension",
    "retry_backup", "verify",
]  # fmt: skip
ENGINE_LIMITS_AND_SWITCHES = (
    "Engine.policy", "Engine.set_switch", "Engine._flooded", "Engine._start_runs",
    "Engine._blockers", "Engine._active_count", "Engine.start_pending", "_count_one",
    "_holds_slot",
)  # fmt: skip
INCIDENT_IDENTITY = ("_mark_listed", "_names_the_vm", "_flag_identity", "in_doubt")

# Each unit is one mutmut run (one clean test run, then its mutants); each target one rate.
UNITS: dict[str, list[Target]] = {
    "playbooks": [Target(f"playbooks/{p}", f"remediation/playbooks/{p}.py") for p in PLAYBOOKS],
    **{
        name: [Target(name, path)]
        for name, path in [
            ("approvals", "remediation/approvals.py"),
            ("policy", "remediation/policy.py"),
            ("runs", "remediation/runs.py"),
            ("leases", "remediation/leases.py"),
            ("azure/operations", "remediation/azure/operations.py"),
            ("azure/throttle", "remediation/azure/throttle.py"),
            ("azure/fence", "remediation/azure/fence.py"),
            ("bot/auth", "bot/auth.py"),
            ("bot/clicked", "bot/clicked.py"),
            ("webhooks", "remediation/webhooks.py"),
            ("resolution", "remediation/resolution.py"),
        ]
    },
    "engine limits": [
        Target("engine: limits and switches", "remediation/engine.py", ENGINE_LIMITS_AND_SWITCHES)
    ],
    "incidents identity": [
        Target("incidents: identity checks", "remediation/incidents.py", INCIDENT_IDENTITY)
    ],
}
TARGETS = [t for targets in UNITS.values() for t in targets]


# -- verdicts -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Equivalent:
    function: str
    was: str
    now: str
    why: str


def load_equivalents(path: Path = EQUIVALENT) -> list[Equivalent]:
    """The reviewed list: each entry names a function, the line as written and as mutated."""
    if not path.exists():
        return []
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    found = []
    for i, item in enumerate(raw.get("equivalent", [])):
        missing = {"function", "was", "now", "why"} - item.keys()
        if missing or not str(item.get("why", "")).strip():
            raise SystemExit(f"{path}: entry {i + 1} needs function, was, now and a why")
        found.append(Equivalent(item["function"], item["was"].strip(), item["now"].strip(),
                                item["why"]))  # fmt: skip
    return found


def change_of(mutant: str, path: str) -> tuple[str, str]:
    """The mutated line as written and as mutated (first changed line of each side)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(mutant, path=path).splitlines()
    was = [line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")]
    now = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    return " ".join(was), " ".join(now)


@dataclass
class Tally:
    target: Target
    killed: int = 0
    equivalent: int = 0
    escaped: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, why, was, now
    unchecked: int = 0

    @property
    def counted(self) -> int:
        return self.killed + len(self.escaped)

    @property
    def rate(self) -> float:
        return self.killed / self.counted if self.counted else 1.0


def verdicts(path: str) -> dict[str, int | None]:
    meta = MUTANTS / f"{path}.meta"
    if not meta.exists():
        return {}
    return json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]


def tally(targets: Iterable[Target], equivalents: list[Equivalent], quick: bool) -> list[Tally]:
    used: set[Equivalent] = set()
    tallies = []
    for target in targets:
        t = Tally(target)
        for mutant, code in sorted(verdicts(target.path).items()):
            if not any(fnmatch.fnmatchcase(mutant, g) for g in target.globs(quick)):
                continue
            if code in KILLED:
                t.killed += 1
                continue
            if code is None:
                t.unchecked += 1
                continue
            was, now = change_of(mutant, target.path)
            match = next((e for e in equivalents if e.function == _readable(mutant)
                          and e.was == was and e.now == now), None)  # fmt: skip
            if match:
                used.add(match)
                t.equivalent += 1
            else:
                t.escaped.append((mutant, SURVIVED.get(code, f"exit {code}"), was, now))
        tallies.append(t)
    return tallies


def load_floors(path: Path = FLOORS) -> dict[str, float]:
    """The kill rate each target must keep in the quick run while it is under the target."""
    if not path.exists():
        return {}
    return {k: float(v) for k, v in tomllib.loads(path.read_text("utf-8"))["floors"].items()}


def write_floors(tallies: list[Tally], path: Path = FLOORS) -> None:
    lines = [
        "# Written by `python -m devtools.mutation report --write-floors` after a full run: the",
        "# kill rate each target keeps in the quick run (CI), its full-run rate less a margin,",
        f"# at most the {TARGET_RATE:.0%} target. Raise a floor by killing survivors, never lower",
        "# it to make CI pass.",
        "[floors]",
    ]
    for t in tallies:
        floor = min(TARGET_RATE, math.floor((t.rate - FLOOR_MARGIN) * 100) / 100)
        lines.append(f'"{t.target.name}" = {max(floor, 0.0):.2f}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def upper_bound(killed: int, n: int, z: float = 1.96) -> float:
    """Wilson upper bound of a sampled kill rate: a sample fails only when it shows clearly
    that the target is under the bar, not when a few survivors fell into it by chance."""
    if n == 0:
        return 1.0
    p = killed / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def report(tallies: list[Tally], quick: bool, survivors: bool, markdown: bool) -> bool:
    """Full run: each target at the 90% target. Quick run: no target's sample shows clearly
    (its Wilson upper bound) that it fell under its floor."""
    ok = True
    floors = load_floors() if quick else {}
    if markdown:
        print(f"Kill rates of {date.today().isoformat()}:\n")
        print("| Target | Mutants | Equivalent | Killed | Kill rate |")
        print("|---|---:|---:|---:|---:|")
    for t in tallies:
        if quick:
            passed = upper_bound(t.killed, t.counted) >= floors.get(t.target.name, TARGET_RATE)
        else:
            passed = t.rate >= TARGET_RATE and not t.unchecked
        ok &= passed
        total = t.counted + t.equivalent
        if markdown:
            print(f"| {t.target.name} | {total} | {t.equivalent} | {t.killed} | {t.rate:.1%} |")
            continue
        note = f", {t.unchecked} not run" if t.unchecked else ""
        print(f"{'ok  ' if passed else 'LOW '} {t.target.name:32} {t.rate:6.1%}  killed "
              f"{t.killed}/{t.counted} ({t.equivalent} equivalent{note})")  # fmt: skip
        if survivors or not passed:
            for mutant, why, was, now in t.escaped:
                print(f"       {why}: {mutant}\n         - {was}\n         + {now}")
    killed = sum(t.killed for t in tallies)
    counted = sum(t.counted for t in tallies)
    if counted and not markdown:
        print(f"all targets: {killed}/{counted} killed ({killed / counted:.1%})"
              + (" in the quick sample, against each target's floor" if quick else ""))  # fmt: skip
    return ok


# -- running ------------------------------------------------------------------------------
def mutmut(args: list[str], log: Path) -> int:
    exe = Path(sys.executable).with_name("mutmut")
    with log.open("w", encoding="utf-8") as out:
        return subprocess.run([str(exe), *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                              check=False).returncode  # fmt: skip


def run_unit(name: str, globs: list[str], max_children: int) -> None:
    log = MUTANTS / "logs" / f"{name.replace(' ', '-').replace('/', '-')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    code = mutmut(["run", "--max-children", str(max_children), *globs], log)
    took = time.monotonic() - started
    print(f"-- {name}: {len(globs)} pattern(s), {took / 60:.1f} min (log: {log.relative_to(ROOT)})",
          flush=True)  # fmt: skip
    if code:
        tail = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
        raise SystemExit(f"mutmut failed on {name} (exit {code}):\n{tail[-3000:]}")


def select(names: list[str]) -> dict[str, list[Target]]:
    if not names:
        return UNITS
    chosen: dict[str, list[Target]] = {}
    for wanted in names:
        hits = [(u, t) for u, ts in UNITS.items() for t in ts if wanted in (u, t.name, t.path)]
        if not hits:
            known = ", ".join(sorted({*UNITS, *(t.name for t in TARGETS)}))
            raise SystemExit(f"unknown target {wanted!r}; known: {known}")
        for unit, target in hits:
            chosen.setdefault(unit, [])
            if target not in chosen[unit]:
                chosen[unit].append(target)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.mutation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="mutate the targets and print their kill rates")
    run.add_argument("targets", nargs="*", help="unit, target name or source path")
    run.add_argument("--quick", action="store_true", help="one mutant in ten, one mutmut run")
    run.add_argument("--keep", action="store_true",
                     help="reuse mutants/ (its stats) instead of starting afresh")  # fmt: skip
    run.add_argument("--max-children", type=int, default=2)
    rep = sub.add_parser("report", help="kill rates of the last run")
    rep.add_argument("targets", nargs="*")
    rep.add_argument("--quick", action="store_true")
    rep.add_argument("--survivors", action="store_true", help="list every surviving mutant")
    rep.add_argument("--markdown", action="store_true", help="a table for docs/mutation.md")
    rep.add_argument("--write-floors", action="store_true", help="record CI's floors")
    args = parser.parse_args(argv)

    units = select(args.targets)
    targets = [t for ts in units.values() for t in ts]
    equivalents = load_equivalents()
    if args.command == "run":
        if not args.keep:
            shutil.rmtree(MUTANTS, ignore_errors=True)
        if args.quick:
            run_unit("quick", [g for t in targets for g in t.globs(quick=True)], args.max_children)
        else:
            for name, unit in units.items():
                run_unit(name, [g for t in unit for g in t.globs()], args.max_children)
        ok = report(tally(targets, equivalents, args.quick), args.quick, False, False)
    else:
        tallies = tally(targets, equivalents, args.quick)
        ok = report(tallies, args.quick, args.survivors, args.markdown)
        if args.write_floors:
            write_floors(tallies)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
