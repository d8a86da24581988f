"""Site Recovery `HealthError`: one model shared by migration items, protected items and the
ASRReplicatedItems.ReplicationHealthErrors column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from remediation.signals.text import find_codes, join_text, merge_codes
from remediation.signals.wrapper import DictWrapper, str_field, text_field, time_field

_LEVEL_RANK = {"critical": 0, "error": 1, "warning": 2}


class InnerHealthError(DictWrapper):
    """The scalar fields every health error has (InnerHealthError in the REST model)."""

    error_code = text_field("errorCode", 'Digits such as "181008" (numbers become text).')
    error_message = str_field("errorMessage")
    summary_message = str_field("summaryMessage")
    possible_causes = str_field("possibleCauses")
    recommended_action = str_field("recommendedAction")
    error_id = text_field("errorId")
    error_level = str_field("errorLevel")
    error_category = str_field("errorCategory")
    error_source = str_field("errorSource")
    error_type = text_field("errorType")
    entity_id = str_field("entityId")
    customer_resolvability = str_field("customerResolvability")
    recovery_provider_error_message = str_field("recoveryProviderErrorMessage")
    creation_time_utc_raw = text_field("creationTimeUtc", "As sent: part of the dedup identity.")
    creation_time_utc = time_field("creationTimeUtc")

    def own_message(self) -> str:
        return join_text(self.summary_message, self.error_message)


@dataclass(slots=True)
class ErrorFacts:
    """What a signal takes from one health error, read once; its creation time is read when
    asked (a replication event's signals take the event's time instead)."""

    error: HealthError
    code: str | None
    level: str | None
    message: str
    codes: tuple[str, ...]
    details: dict[str, str]

    @property
    def time(self) -> datetime | None:
        return self.error.creation_time_utc

    @property
    def time_sent(self) -> str | None:
        """The creation time as sent: part of the error's identity."""
        return self.error.creation_time_utc_raw

    @property
    def severity_rank(self) -> int:
        """0 for Critical, 1 Error, 2 Warning, 3 anything else: lower sorts first."""
        return _LEVEL_RANK.get((self.level or "").lower(), 3)


class HealthError(InnerHealthError):
    """A top-level health error, which may carry inner errors with their own codes."""

    @property
    def inner_health_errors(self) -> list[InnerHealthError]:
        return self._wrap_list(InnerHealthError, "innerHealthErrors")

    def facts(self) -> ErrorFacts:
        """Its message (its own, the provider's, then its inner errors'), its codes (its own,
        then the inner errors', then those the texts name) and the fields a card shows."""
        inner_messages, codes = [], []
        for inner in self.inner_health_errors:
            inner_messages.append(inner.own_message())
            codes.append(inner.error_code or "")
        message = join_text(
            self.own_message(), self.recovery_provider_error_message, *inner_messages
        )
        code, level = self.error_code, self.error_level
        details = {
            "error_id": self.error_id,
            "error_level": level,
            "error_category": self.error_category,
            "error_source": self.error_source,
            "possible_causes": self.possible_causes,
            "recommended_action": self.recommended_action,
        }
        return ErrorFacts(
            error=self,
            code=code,
            level=level,
            message=message,
            codes=merge_codes((code or "",), codes, find_codes(message)),
            details={k: v for k, v in details.items() if v},
        )


def by_severity(errors: list[HealthError]) -> list[ErrorFacts]:
    """The errors' facts, most severe first; equal severities keep their order."""
    facts = [error.facts() for error in errors]
    return sorted(facts, key=lambda e: e.severity_rank) if len(facts) > 1 else facts


def error_identity(owner: str | None, error: ErrorFacts) -> str:
    """Owner id + code + creation time: the same error seen on every poll keeps one identity."""
    return "|".join(((owner or "").lower(), error.code or "", error.time_sent or ""))
