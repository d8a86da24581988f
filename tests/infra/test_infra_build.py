"""`python -m appPackage.build` as an operator runs it: real process, real zip."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from appPackage.build import default_app_id

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_ID = "6E0C8D4A-1B2C-4D5E-8F90-A1B2C3D4E5F6"
APP_ID = "0f1e2d3c-4b5a-4978-8877-665544332211"


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appPackage.build", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_help_exits_zero() -> None:
    result = run_build("--help")
    assert result.returncode == 0
    assert "--bot-id" in result.stdout and "--out" in result.stdout


def test_builds_a_zip_with_exactly_the_manifest_and_icons(tmp_path: Path) -> None:
    out = tmp_path / "pkg" / "teams-app.zip"
    result = run_build(
        "--bot-id", BOT_ID, "--app-id", APP_ID, "--bot-domain", "https://func-x.azurewebsites.net/",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)
    assert manifest["bots"][0]["botId"] == BOT_ID.lower()
    assert manifest["id"] == APP_ID
    assert manifest["validDomains"] == ["func-x.azurewebsites.net"]
    assert "${{" not in json.dumps(manifest)


def test_app_id_defaults_to_a_stable_id_from_the_bot_id(tmp_path: Path) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    assert run_build("--bot-id", BOT_ID, "--out", str(first)).returncode == 0
    assert run_build("--bot-id", BOT_ID.lower(), "--out", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["id"] == default_app_id(BOT_ID.lower()) != BOT_ID.lower()
    assert manifest["validDomains"] == []


@pytest.mark.parametrize(
    "args",
    [
        ("--bot-id", "not-a-guid"),
        ("--bot-id", "6e0c8d4a1b2c4d5e8f90a1b2c3d4e5f6"),
        ("--bot-id", BOT_ID, "--app-id", "{" + APP_ID + "}"),
        ("--bot-id", BOT_ID, "--bot-domain", "not a host"),
        ("--bot-id", BOT_ID, "--developer-url", "http://insecure.example.com"),
        (),
    ],
    ids=["bad-guid", "guid-without-dashes", "braced-app-id", "bad-domain", "http-url", "no-bot-id"],
)
def test_bad_input_is_rejected_with_a_clear_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = tmp_path / "teams-app.zip"
    result = run_build(*args, "--out", str(out))
    assert result.returncode == 2
    assert "error: " in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_unwritable_output_fails_without_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_build("--bot-id", BOT_ID, "--out", str(blocker / "teams-app.zip"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
