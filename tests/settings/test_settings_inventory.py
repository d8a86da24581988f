"""Every setting the code reads is declared once, sampled, documented and deployed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from remediation.settings import SETTINGS
from tests.infra.bicep_settings import app_setting_names

ROOT = Path(__file__).resolve().parents[2]
# Read by the Functions host for identity-based connections, never by the app's code.
HOST_ONLY = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "ServiceBusConnection__credential",
    "ServiceBusConnection__clientId",
}
READS = re.compile(
    r"""\.(?:get|flag|items)\(\s*["']([A-Za-z][A-Za-z0-9_]+)["']|%([A-Za-z][A-Za-z0-9_]+)%"""
)
# Read by the Functions worker itself (telemetry), not by the app's code.
WORKER_READ = {"APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"}
CODE = ("remediation", "bot", "functions", "wiring", "function_app.py")


def _names_read_by_code() -> set[str]:
    declared = {s.name for s in SETTINGS}
    found = set()
    for root in CODE:
        path = ROOT / root
        for file in [path] if path.is_file() else path.rglob("*.py"):
            text = file.read_text()
            found |= {a or b for a, b in READS.findall(text)}
    return {n for n in found if n in declared or (n.isupper() and "_" in n)} | WORKER_READ


def test_code_reads_only_declared_settings():
    declared = {s.name for s in SETTINGS}
    undeclared = {n for n in _names_read_by_code() if n not in declared}
    assert not undeclared, f"read but not in remediation/settings.py: {sorted(undeclared)}"


def test_every_declared_setting_is_read_somewhere():
    assert {s.name for s in SETTINGS} <= _names_read_by_code()


def test_sample_settings_match_the_declarations_and_hold_no_secrets():
    sample = json.loads((ROOT / "local.settings.sample.json").read_text())
    values = sample["Values"]
    declared = {s.name for s in SETTINGS}
    assert declared <= set(values)
    assert set(values) - declared <= {"AzureWebJobsStorage", "FUNCTIONS_WORKER_RUNTIME"}
    assert set(sample["Meanings"]) == set(values)
    for name in ("AZURE_CLIENT_SECRET", "ALERTS_SHARED_SECRET", "BOT_APP_ID"):
        assert values[name].startswith("<"), f"{name} must be a placeholder"


def test_bicep_app_settings_match_the_deployed_declarations():
    deployed = {s.name for s in SETTINGS if s.deployed}
    assert set(app_setting_names()) - HOST_ONLY == deployed


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing
