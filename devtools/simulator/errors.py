"""The ARM error envelope the simulator answers with."""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An ARM failure: HTTP status plus the `{"error": {"code", "message"}}` body."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def not_found(kind: str, name: str, resource_group: str | None = None) -> ArmError:
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ArmError(404, "ResourceNotFound", f"The Resource '{kind}/{name}'{where} was not found.")


def scope_locked(target_id: str, operation: str, lock_scopes: list[str]) -> ArmError:
    scopes = ",".join(f"'{s}'" for s in lock_scopes)
    return ArmError(
        409,
        "ScopeLocked",
        f"The scope '{target_id}' cannot perform {operation} operation because following "
        f"scope(s) are locked: {scopes}. Please remove the lock and try again.",
    )
