"""Site Recovery `HealthError`: one model shared by migration items, protected items and the
ASRReplicatedItems.ReplicationHealthErrors column."""

from __future__ import annotations

from datetime import datetime

from remediation.signals.text import find_codes, join_text, merge_codes
from remediation.signals.wrapper import DictWrapper, lazy

_LEVEL_RANK = {"critical": 0, "error": 1, "warning": 2}


class InnerHealthError(DictWrapper):
    """The scalar fields every health error has (InnerHealthError in the REST model)."""

    @property
    def error_code(self) -> str | None:
        """A string of digits such as "181008" (numbers are accepted and turned into text)."""
        return self._text("errorCode")

    @property
    def error_message(self) -> str | None:
        return self._str("errorMessage")

    @property
    def summary_message(self) -> str | None:
        return self._str("summaryMessage")

    @property
    def possible_causes(self) -> str | None:
        return self._str("possibleCauses")

    @property
    def recommended_action(self) -> str | None:
        return self._str("recommendedAction")

    @property
    def error_id(self) -> str | None:
        return self._text("errorId")

    @property
    def error_level(self) -> str | None:
        return self._str("errorLevel")

    @property
    def error_category(self) -> str | None:
        return self._str("errorCategory")

    @property
    def error_source(self) -> str | None:
        return self._str("errorSource")

    @property
    def error_type(self) -> str | None:
        return self._text("errorType")

    @property
    def entity_id(self) -> str | None:
        return self._str("entityId")

    @property
    def customer_resolvability(self) -> str | None:
        return self._str("customerResolvability")

    @property
    def recovery_provider_error_message(self) -> str | None:
        return self._str("recoveryProviderErrorMessage")

    @property
    def creation_time_utc_raw(self) -> str | None:
        """The creation time exactly as sent: part of the dedup identity."""
        return self._text("creationTimeUtc")

    @property
    def creation_time_utc(self) -> datetime | None:
        return self._time("creationTimeUtc")

    @property
    def severity_rank(self) -> int:
        """0 for Critical, 1 Error, 2 Warning, 3 anything else: lower sorts first."""
        return _LEVEL_RANK.get((self.error_level or "").lower(), 3)

    @lazy
    def own_message(self) -> str:
        return join_text(self.summary_message, self.error_message)


class HealthError(InnerHealthError):
    """A top-level health error, which may carry inner errors with their own codes."""

    @lazy
    def inner_health_errors(self) -> list[InnerHealthError]:
        return self._wrap_list(InnerHealthError, "innerHealthErrors")

    @lazy
    def message(self) -> str:
        inner = [e.own_message for e in self.inner_health_errors]
        return join_text(self.own_message, self.recovery_provider_error_message, *inner)

    @lazy
    def codes(self) -> tuple[str, ...]:
        """Its own code first, then inner codes, then codes the texts name."""
        inner = [e.error_code or "" for e in self.inner_health_errors]
        return merge_codes([self.error_code or ""], inner, find_codes(self.message))

    def details(self) -> dict[str, str]:
        """The descriptive fields a card shows, without empty ones."""
        fields = {
            "error_id": self.error_id,
            "error_level": self.error_level,
            "error_category": self.error_category,
            "error_source": self.error_source,
            "possible_causes": self.possible_causes,
            "recommended_action": self.recommended_action,
        }
        return {k: v for k, v in fields.items() if v}


def by_severity(errors: list[HealthError]) -> list[HealthError]:
    """Most severe first; equal severities keep their order."""
    return sorted(errors, key=lambda e: e.severity_rank)


def error_identity(owner: str | None, error: HealthError) -> str:
    """Owner id + code + creation time: the same error seen on every poll keeps one identity."""
    return "|".join(
        ((owner or "").lower(), error.error_code or "", error.creation_time_utc_raw or "")
    )
