"""Site Recovery `HealthError`: one model shared by migration items, protected items and the
ASRReplicatedItems.ReplicationHealthErrors column."""

from __future__ import annotations

from remediation.signals.text import find_codes, join_text, merge_codes
from remediation.signals.wrapper import DictWrapper, lazy, str_field, text_field, time_field

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
