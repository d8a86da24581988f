# ruff: noqa: RUF001  (typographic quotes are the point of these tests)
"""`python -m remediation` run as a real process: classify --jsonl and explain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
EVENTS = ROOT / "tests" / "events"


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    python = str(PYTHON if PYTHON.exists() else sys.executable)
    return subprocess.run(
        [python, "-m", "remediation", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=60
    )


def records(result: subprocess.CompletedProcess[bytes]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_no_subcommand_prints_help_and_exits_2():
    result = run()
    assert result.returncode == 2
    assert b"classify" in result.stderr and b"explain" in result.stderr


def test_classify_jsonl_mixed_lines_keeps_going():
    alert = json.loads((EVENTS / "common_alert_backup_failure_rp_limit.json").read_text())
    lines = [
        json.dumps("An internal error occurred. [Generate Snapshot Hung]"),
        json.dumps(alert),
        "{not json",
        json.dumps({"unexpected": "shape"}),
        json.dumps("First full backup is missing for this datasource."),
        json.dumps(42),
    ]
    result = run("classify", "--jsonl", stdin=("\n".join(lines) + "\n").encode())
    assert result.returncode == 0
    out = records(result)
    assert [r["line"] for r in out] == [1, 2, 3, 4, 5, 6]
    assert out[0]["entry_id"] == "vmware-generate-snapshot-hung" and out[0]["source"] == "raw-text"
    assert out[1]["entry_id"] == "rp-collection-limit-reached"
    assert out[1]["source"] == "common-alert" and out[1]["vm"]
    assert out[1]["title"] and out[1]["language"] == "en" and out[1]["codes"]
    assert out[2]["error"].startswith("invalid JSON")
    assert "not a supported payload" in out[3]["error"]
    assert out[4]["entry_id"] is None and "error" not in out[4] and out[4]["source"] == "raw-text"
    for bad in (out[2], out[3], out[5]):
        assert (bad["entry_id"], bad["vm"], bad["source"]) == (None, None, None)


def test_classify_jsonl_reports_a_10_mb_line_and_continues():
    huge = json.dumps("x" * (10 * 1024 * 1024)).encode()
    ok = json.dumps("Error ID: 1011").encode()
    result = run("classify", "--jsonl", stdin=huge + b"\n" + ok + b"\n")
    assert result.returncode == 0
    first, second = records(result)
    assert first["line"] == 1 and "too large" in first["error"] and "1048576" in first["error"]
    assert second == {**second, "line": 2, "entry_id": "disk-upload-timed-out"}


def test_classify_jsonl_survives_binary_garbage():
    garbage = bytes(range(256)) + b"\n\xff\xfe\x00\x00garbage\n"
    result = run(
        "classify", "--jsonl", stdin=garbage + b'"VMSnapshot extension operation failed"\n'
    )
    assert result.returncode == 0
    out = records(result)
    assert all("error" in r for r in out[:-1]) and len(out) >= 3
    assert out[-1]["entry_id"] == "vmsnapshot-extension-failed"


def test_classify_jsonl_empty_or_all_bad_input_exits_non_zero():
    assert run("classify", "--jsonl").returncode != 0
    result = run("classify", "--jsonl", stdin=b"nope\n[1]\n")
    assert result.returncode != 0 and len(records(result)) == 2


def test_explain_english_text():
    result = run("explain", "The Restore Point collection max limit has reached.")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "rp-collection-limit-reached" in text and "cleanup-restore-points" in text
    assert "https://learn.microsoft.com/" in text and "approval" in text


def test_explain_french_text_answers_in_french():
    result = run(
        "explain", "Une erreur interne s’est produite. [Une autre tâche est déjà en cours]"
    )
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "vmware-task-in-progress" in text and "Causes possibles" in text


def test_explain_code_and_entry_id_as_json():
    by_code = json.loads(run("explain", "UserErrorRpCollectionLimitReached", "--json").stdout)
    assert [e["id"] for e in by_code["entries"]] == ["rp-collection-limit-reached"]
    by_id = json.loads(
        run("explain", "dispose-artefacts-timed-out", "--json", "--lang", "fr").stdout
    )
    assert by_id["matched_by"] == "id" and by_id["entries"][0]["title"].startswith("Expiration")
    shared = json.loads(run("explain", "181008", "--json").stdout)
    assert len(shared["entries"]) == 2


def test_explain_shows_the_symptom_that_decided_a_reworded_text():
    # Microsoft's French wording of the 2019 page, which no phrase pattern holds.
    text = "Cette erreur se produit lorsqu’un des échecs d’extension met la machine virtuelle en "
    result = run("explain", text + "état d’échec d’approvisionnement.")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "vm-provisioning-state-failed" in out
    assert "Correspondance (symptôme, score 0.88, seuil 0.80) : Échec de l’approvisionnement" in out
    reworded = "The backup failed on vm-01 because its VM is left in a failed state of provisioning"
    found = json.loads(run("explain", reworded, "--json").stdout)
    assert found["matched_by"] == "symptom" and 0.8 <= found["score"] < 1
    assert found["matched"] == "The VM is in failed provisioning state"


def test_explain_no_match_exits_1():
    result = run("explain", "The coffee machine is out of beans")
    assert result.returncode == 1
    assert b"No catalogue entry matches" in result.stderr
