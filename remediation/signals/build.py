"""The one place a Signal is assembled, so every parser normalises the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from remediation.signals.arm_id import ArmId
from remediation.signals.language import detect_language
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.text import clean_text, merge_codes
from remediation.textnorm import memo

MAX_CODE_CHARS = 200
# Azure resource ids and names are far shorter; a longer one cannot name anything real, and
# stored in an incident (several times over) it would break the store's document size limit.
MAX_ID_CHARS = 2048


def make_signal(
    source: SourceKind,
    message: str,
    codes: tuple[str, ...] | list[str] = (),
    *,
    vm: str | None = None,
    resource_id: str | None = None,
    vault_id: str | None = None,
    vault: str | None = None,
    subscription_id: str | None = None,
    resource_group: str | None = None,
    scope: str | None = None,
    job_id: str | None = None,
    time: datetime | None = None,
    resolved: bool = False,
    source_id: str | None = None,
    service: str | None = None,
    status: str | None = None,
    error_level: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Signal:
    """Clean the message (NULs, 8 KB cap noted in extra), detect its language, dedupe codes and
    fill vault/subscription/resource group from the ARM ids when the caller did not know them.
    `extra` becomes the signal's own: callers pass a new dict. Raises SignalError for an
    identifier longer than MAX_ID_CHARS."""
    identifiers = (
        resource_id, vault_id, vault, subscription_id, resource_group,
        vm, scope, job_id, source_id, service, status, error_level,
    )  # fmt: skip
    if sum(map(len, filter(None, identifiers))) > MAX_ID_CHARS:
        _check_lengths(identifiers)
    if extra is None:
        extra = {}
    text, original_length = clean_text(message)
    if original_length is not None:
        extra["message_truncated_from"] = original_length
    owner_vault_id, owner_vault, owner_subscription, owner_group = _arm_fields(
        resource_id, vault_id
    )
    return Signal(  # in field order: positional arguments cost less than keywords
        source,
        text,
        _clean_codes(tuple(codes)) if codes else (),
        vm,
        resource_id or None,
        vault or owner_vault,
        owner_vault_id,
        subscription_id or owner_subscription,
        resource_group or owner_group,
        scope,
        job_id,
        time,
        detect_language(text),
        resolved,
        source_id,
        service,
        status,
        error_level,
        extra,
    )


_IDENTIFIERS = (
    *("resource_id", "vault_id", "vault", "subscription_id", "resource_group", "vm", "scope"),
    *("job_id", "source_id", "service", "status", "error_level"),
)


def _check_lengths(identifiers: tuple[str | None, ...]) -> None:
    """Raise SignalError naming the first identifier over the limit."""
    for name, value in zip(_IDENTIFIERS, identifiers, strict=True):
        if isinstance(value, str) and len(value) > MAX_ID_CHARS:
            reason = f"{name} is {len(value)} characters long; the limit is {MAX_ID_CHARS}"
            raise SignalError(reason)


@memo
def _clean_codes(codes: tuple[str, ...]) -> tuple[str, ...]:
    return merge_codes(clean_text(code, MAX_CODE_CHARS)[0] for code in codes)


def _arm_fields(
    resource_id: str | None, vault_id: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """(vault id, vault name, subscription, resource group) as the ARM ids tell them: the vault
    is the one named, else the one the resource is under."""
    resource = ArmId.parse(resource_id)
    vault_arm = ArmId.parse(vault_id) or resource
    owner = resource or vault_arm
    if owner is None or vault_arm is None:
        return None, None, None, None
    return (
        vault_arm.vault_id,
        vault_arm.get("vaults"),
        owner.subscription_id,
        owner.resource_group,
    )
