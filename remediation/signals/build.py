"""The one place a Signal is assembled, so every parser normalises the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from remediation.signals.arm_id import ArmId
from remediation.signals.language import detect_language
from remediation.signals.model import Signal, SourceKind
from remediation.signals.text import clean_text, merge_codes


def make_signal(
    source: SourceKind,
    message: str,
    codes: tuple[str, ...] | list[str] = (),
    *,
    resource_id: str | None = None,
    vault_id: str | None = None,
    vault: str | None = None,
    subscription_id: str | None = None,
    resource_group: str | None = None,
    time: datetime | None = None,
    extra: dict[str, Any] | None = None,
    **fields: Any,
) -> Signal:
    """Clean the message (NULs, 8 KB cap noted in extra), detect its language, dedupe codes and
    fill vault/subscription/resource group from the ARM ids when the caller did not know them."""
    extra = dict(extra or {})
    text, original_length = clean_text(message)
    if original_length is not None:
        extra["message_truncated_from"] = original_length
    resource = ArmId.parse(resource_id)
    vault_arm = ArmId.parse(vault_id) or (resource and ArmId.parse(resource.vault_id))
    owner = resource or vault_arm
    return Signal(
        source=source,
        message=text,
        codes=merge_codes(clean_text(c, 200)[0] for c in codes),
        resource_id=resource_id or None,
        vault_id=vault_arm.vault_id if vault_arm else None,
        vault=vault or (vault_arm.get("vaults") if vault_arm else None),
        subscription_id=subscription_id or (owner.subscription_id if owner else None),
        resource_group=resource_group or (owner.resource_group if owner else None),
        time=time,
        language=detect_language(text),
        extra=extra,
        **fields,
    )
