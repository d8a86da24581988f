"""Findings of the read-only diagnosis: what was checked, whether it is healthy, and why.

Each diagnose step owns one family of checks (`family.check`) and replaces its own findings
when it runs again, so a resumed step never reports twice. A check whose ARM read fails
becomes a finding ("could not check: ..."), never a failed run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from remediation.playbooks.base import RunContext

log = logging.getLogger(__name__)

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


def reason(exc: BaseException) -> str:
    """Short text for a card: the ARM error code and message when there is one, else what
    happened in words. Never a Python exception name: people read this."""
    facts = error_facts(exc)
    if facts.get("code") or facts.get("message"):
        parts = (facts.get("status"), f"{facts['code']}:" if facts.get("code") else None,
                 facts.get("message"))  # fmt: skip
        return " ".join(str(p) for p in parts if p)[:300]
    for kinds, said in _words():
        if isinstance(exc, kinds):
            return said
    if facts.get("status"):
        return f"Azure answered HTTP {facts['status']}"
    log.warning("unexpected error reported as such on a card", exc_info=exc)
    return "an unexpected error in the app (its log has the details)"


def error_facts(exc: BaseException) -> dict[str, Any]:
    """What Azure said about a failed call, from the exception or the one it was raised from:
    HTTP status, ARM error code and message, and the request id to quote to Microsoft."""
    found: dict[str, Any] = {}
    for candidate in (exc, exc.__cause__):
        if candidate is None:
            continue
        error = getattr(candidate, "error", None)
        response = getattr(candidate, "response", None)
        headers = getattr(response, "headers", None) or {}
        facts = {
            "status": getattr(candidate, "status_code", None),
            "code": getattr(error, "code", None),
            "message": getattr(error, "message", None),
            "request_id": headers.get("x-ms-request-id")
            or headers.get("x-ms-correlation-request-id"),
        }
        found.update({k: v for k, v in facts.items() if v and k not in found})
    if found.get("message"):
        found["message"] = str(found["message"])[:1000]
    return found


def _words() -> tuple[tuple[tuple[type[BaseException], ...], str], ...]:
    """What a failure that carries no ARM error means, most specific kind first. Built when
    a failure is described, not at import, so mutation testing reaches each wording."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        ServiceRequestError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )

    return (
        ((ServiceResponseTimeoutError, TimeoutError), "Azure did not answer in time"),
        ((ClientAuthenticationError,), "Azure refused the app's sign-in"),
        ((ServiceRequestError, ConnectionError), "Azure could not be reached"),
        ((ServiceResponseError,), "Azure's answer was cut off"),
    )


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
