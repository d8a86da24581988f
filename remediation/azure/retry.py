"""Operation-level retries with tenacity, for what azure-core's retry policy does not own.

azure-core retries transport errors and 408/429/5xx per HTTP request. Some ARM operations
fail as a whole with a transient 409 (another operation in progress, a conflicting delete
that "usually succeeds after two or three retries"): those are retried here by running the
whole operation again (`begin_*` + `result()`). Never retried here: ScopeLocked (a lock is
not transient: remove it or escalate), 429 and 5xx (azure-core already did).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_CONFLICT_CODES = frozenset(
    {"conflict", "anotheroperationinprogress", "operationinprogress", "retryableerror"}
)
NEVER_RETRIED_CODES = frozenset({"scopelocked"})


def error_code(exc: BaseException) -> str | None:
    """The ARM error code of an azure-core HttpResponseError, from the parsed body or raw JSON."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if code:
        return str(code)
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        return str(response.json()["error"]["code"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def is_transient_conflict(exc: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError

    if not isinstance(exc, HttpResponseError) or exc.status_code != 409:
        return False
    code = (error_code(exc) or "").lower()
    return code in TRANSIENT_CONFLICT_CODES and code not in NEVER_RETRIED_CODES


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning(
        "ARM operation %s failed with %s (attempt %d); retrying",
        getattr(state.fn, "__name__", "operation"),
        error_code(exc) if exc else "?",
        state.attempt_number,
    )


def conflict_retrying(
    *, attempts: int = 3, initial_wait: float = 2.0, max_wait: float = 30.0
) -> Retrying:
    """A tenacity `Retrying` for transient 409s; re-raises the last error when attempts run out."""
    return Retrying(
        retry=retry_if_exception(is_transient_conflict),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(
            multiplier=initial_wait, max=max_wait, jitter=initial_wait / 2
        ),
        before_sleep=_log_retry,
        reraise=True,
    )


def run_with_conflict_retry(operation: Callable[[], T], **kwargs: Any) -> T:
    """Run the whole operation, again on a transient 409 (kwargs: see `conflict_retrying`)."""
    return conflict_retrying(**kwargs)(operation)


def retry_transient_conflict(
    *, attempts: int = 3, initial_wait: float = 2.0, max_wait: float = 30.0
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form of `run_with_conflict_retry`."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        def wrapper(*args: Any, **kw: Any) -> T:
            retrying = conflict_retrying(
                attempts=attempts, initial_wait=initial_wait, max_wait=max_wait
            )
            return retrying(fn, *args, **kw)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate
