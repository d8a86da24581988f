"""Findings of the read-only diagnosis: what was checked, whether it is healthy, and why.

Each diagnose step owns one family of checks (`family.check`) and replaces its own findings
when it runs again, so a resumed step never reports twice. A check whose ARM read fails
becomes a finding ("could not check: ..."), never a failed run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from remediation.playbooks.base import RunContext

Finding = dict[str, Any]


def finding(check: str, ok: bool, detail: str, resource_id: str | None = None) -> Finding:
    return {"check": check, "ok": ok, "detail": detail, "resource_id": resource_id}


def could_not_check(check: str, resource_id: str | None, exc: Exception) -> Finding:
    return finding(check, False, f"could not check: {reason(exc)}", resource_id)


def guarded(check: str, resource_id: str | None, read: Callable[[], Any]) -> tuple[Any, list]:
    """(value, []) when `read` works; (None, [could-not-check finding]) when it raises."""
    try:
        return read(), []
    except Exception as exc:  # any ARM failure is reported, the other checks still run
        return None, [could_not_check(check, resource_id, exc)]


def reason(exc: Exception) -> str:
    """Short text for a card: the ARM error code and message when there is one."""
    error = getattr(exc, "error", None)
    code, message = getattr(error, "code", None), getattr(error, "message", None)
    status = getattr(exc, "status_code", None)
    if code or message:
        text = " ".join(str(p) for p in (status, f"{code}:" if code else None, message) if p)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:300]


def record(ctx: RunContext, family: str, found: list[Finding]) -> str:
    """Replace the findings of `family` with `found`; returns a one-line summary."""
    mine = f"{family}."
    kept = [
        f
        for f in ctx.state.get("findings", [])
        if f["check"] != family and not f["check"].startswith(mine)
    ]
    ctx.state["findings"] = [*kept, *found]
    bad = sum(1 for f in found if not f["ok"])
    return f"{family}: {len(found)} finding(s), {bad} not ok"
