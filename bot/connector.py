"""Bot Connector REST v3 client: create a channel thread, send, reply, update, delete.

SDK-independent on purpose: the wire protocol is the same for botbuilder, the Agents SDK and
the Teams SDK, and owning it gives typed errors (bot removed, conversation gone, too large,
throttled) and retries that honour Retry-After, which the SDK's msrest client does not.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

log = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]


class ConnectorError(Exception):
    """The Bot Connector refused a call; `code` is its error code when it sent one."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"Bot Connector answered {status} {code or ''}: {message}".strip())
        self.status = status
        self.code = code
        self.message = message


class BotRemoved(ConnectorError):
    """403: the bot is not (or no longer) in that team/chat, or is blocked; forget the address."""


class ConversationNotFound(ConnectorError):
    """404: the conversation or activity no longer exists."""


class MessageTooLarge(ConnectorError):
    """413: the activity exceeds the Teams message size limit (about 100 KB)."""


class Throttled(ConnectorError):
    """429: still throttled after the retries; `retry_after` seconds if the service said."""

    def __init__(self, code: str | None, message: str, retry_after: float | None) -> None:
        super().__init__(429, code, message)
        self.retry_after = retry_after


class ConnectorUnavailable(ConnectorError):
    """5xx or no connection, still failing after the retries."""


_BY_STATUS: dict[int, type[ConnectorError]] = {
    403: BotRemoved,
    404: ConversationNotFound,
    413: MessageTooLarge,
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries for 429, 5xx and connection failures."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, error: BaseException | None) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, Throttled | ConnectorUnavailable)


class ConnectorClient:
    """Calls `{serviceUrl}/v3/...` with the bot's bearer token from `token_provider`."""

    def __init__(
        self,
        token_provider: TokenProvider,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._token_provider = token_provider
        self._retry = retry or RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def create_conversation(self, service_url: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", service_url, "/v3/conversations", params)

    async def send(
        self, service_url: str, conversation_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"/v3/conversations/{_seg(conversation_id)}/activities"
        return await self._call("POST", service_url, path, activity)

    async def reply(
        self, service_url: str, conversation_id: str, reply_to_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"/v3/conversations/{_seg(conversation_id)}/activities/{_seg(reply_to_id)}"
        return await self._call("POST", service_url, path, activity)

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        path = f"/v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        return await self._call("PUT", service_url, path, {**activity, "id": activity_id})

    async def delete(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        path = f"/v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        await self._call("DELETE", service_url, path, None)

    async def _call(
        self, method: str, service_url: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        url = service_url.rstrip("/") + path
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            retry=retry_if_exception(_retryable),
            wait=lambda state: self._retry.delay(
                state.attempt_number, state.outcome.exception() if state.outcome else None
            ),
            before_sleep=lambda state: log.warning(
                "Bot Connector %s %s failed (%s), retry %d",
                method,
                path,
                state.outcome.exception() if state.outcome else "?",
                state.attempt_number,
            ),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, url, body)
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def _once(self, method: str, url: str, body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {await self._token_provider()}"}
        try:
            async with self._client().request(method, url, json=body, headers=headers) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise _error(resp.status, text, resp.headers.get("Retry-After"))
                return _json_or_empty(text)
        except aiohttp.ClientError as exc:
            raise ConnectorUnavailable(0, None, f"cannot reach {url}: {exc}") from exc

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _seg(value: str) -> str:
    """One URL path segment: conversation ids carry ':', '@' and ';messageid='."""
    return quote(value, safe="")


def _json_or_empty(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(status: int, text: str, retry_after: str | None) -> ConnectorError:
    error = _json_or_empty(text).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    message = message or text[:200] or "no details"
    if status == 429:
        return Throttled(code, message, parse_retry_after(retry_after))
    if status >= 500:
        return ConnectorUnavailable(status, code, message)
    return _BY_STATUS.get(status, ConnectorError)(status, code, message)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
