"""The mutation setup stays true as the code moves: every target exists and is mutated, every
equivalent-mutant entry still names a line of its function. (The mutation run itself is
`make mutate`; see docs/mutation.md.)"""

from __future__ import annotations

import importlib
import inspect
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from devtools import mutation

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]


def _resolve(dotted: str):
    """remediation.engine.Engine._blockers -> the function object."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise LookupError(dotted)


@pytest.mark.parametrize("target", mutation.TARGETS, ids=lambda t: t.name)
def test_each_target_is_a_mutated_source_with_the_functions_it_names(target):
    assert (ROOT / target.path).is_file()
    assert any(fnmatch(target.path, pattern) for pattern in CONFIG["only_mutate"])
    for function in target.functions:
        assert callable(_resolve(f"{target.module}.{function}")), function


@pytest.mark.parametrize(
    ("mutant", "readable"),
    [
        ("remediation.engine.xǁEngineǁ_blockers__mutmut_3", "remediation.engine.Engine._blockers"),
        ("remediation.engine.x__holds_slot__mutmut_12", "remediation.engine._holds_slot"),
        ("remediation.playbooks.verify.x_read__mutmut_1", "remediation.playbooks.verify.read"),
    ],
)
def test_mutant_names_map_to_their_function_and_target(mutant, readable):
    assert mutation._readable(mutant) == readable
    owners = [t.name for t in mutation.TARGETS if t.owns(mutant)]
    assert len(owners) == 1


def test_the_quick_sample_is_a_subset_of_the_full_one():
    engine = next(t for t in mutation.TARGETS if t.functions)
    name = f"{engine.module}.xǁEngineǁ_blockers__mutmut_17"
    assert any(fnmatch(name, g) for g in engine.globs(quick=True))
    assert not any(fnmatch(name.replace("_17", "_18"), g) for g in engine.globs(quick=True))


EQUIVALENTS = mutation.load_equivalents()


@pytest.mark.parametrize("entry", EQUIVALENTS, ids=lambda e: f"{e.function}: {e.now[:40]}")
def test_each_equivalent_mutant_still_names_a_line_of_its_function(entry):
    function = _resolve(entry.function)
    source = " ".join(line.strip() for line in inspect.getsource(function).splitlines())
    assert entry.was in source, "stale entry: the line changed; rerun make mutate and review"
    assert entry.was != entry.now
    assert "\n" not in entry.why.strip() and len(entry.why) > 20
    assert any(t.owns_function(entry.function) for t in mutation.TARGETS)


def test_sampled_kill_rates_are_judged_with_their_uncertainty():
    assert mutation.upper_bound(18, 20) > 0.95  # 2 survivors in 20 do not show a fall
    assert mutation.upper_bound(5, 20) < 0.5
    assert mutation.upper_bound(0, 0) == 1.0
