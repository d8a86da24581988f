"""The deployed package runs on requirements.txt alone: importing function_app and invoking
every function loads no dev-only module (devtools, tests, bench, and every distribution that
only requirements-dev.txt brings: pytest, trustme, playwright, ...)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.engine.signals import load

from .azure_settings import SHARED_SECRET, azure_settings, common_alert

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("functions_without_dev_tools.py")
LOCAL_DEV_PACKAGES = {"devtools", "tests", "bench"}


def _requirements(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonicalize_name(Requirement(line).name))
    return names


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` install, with their dependencies (extras left out)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def dev_only_modules() -> set[str]:
    runtime = _closure(_requirements(ROOT / "requirements.txt"))
    dev = _closure(_requirements(ROOT / "requirements-dev.txt") - runtime) - runtime
    modules = {
        module
        for module, dists in metadata.packages_distributions().items()
        if dists and all(canonicalize_name(d) in dev for d in dists)
    }
    return {m for m in modules if not m.startswith("_")} | {"_pytest"} | LOCAL_DEV_PACKAGES


def test_the_dev_only_list_is_what_it_claims():
    blocked = dev_only_modules()
    assert {"pytest", "_pytest", "trustme", "playwright", "hypothesis", "pycep"} <= blocked
    assert blocked >= LOCAL_DEV_PACKAGES
    for runtime in ("azure", "msal", "aiohttp", "yaml", "requests", "botbuilder", "jwt"):
        assert runtime not in blocked, runtime


def test_every_function_runs_without_a_dev_only_module(stand_ins, tmp_path):
    given = {
        "alert": json.loads(common_alert()),
        "alert_params": {"code": "host-checks-it", "secret": SHARED_SECRET},
        "handshake": load("eventgrid_subscription_validation.json"),
        "activity": load("bot/message_channel.json"),
        "messages_file": str(stand_ins.servicebus.messages_path),
    }
    (tmp_path / "given.json").write_text(json.dumps(given))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env |= azure_settings(stand_ins) | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), json.dumps(sorted(dev_only_modules())),
         str(tmp_path / "given.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["attempts"] == [], "dev-only imports were attempted"
    assert report["loaded"] == []
    assert report["answers"]["alerts"] == 202
    assert report["answers"]["eventgrid_webhook"] == 200
    assert report["answers"]["messages"] == 401
