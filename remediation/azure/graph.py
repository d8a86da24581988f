"""Microsoft Graph group membership: which of some groups an Entra user belongs to.

One call, `POST {endpoint}/v1.0/users/{id}/checkMemberGroups` (transitive membership), with
the app's token for `{endpoint}/.default`; it needs the application permissions
GroupMember.Read.All and User.Read.All (see infra/README.md). Answers are cached per
(user, group) so a storm of clicks asks once.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from remediation.settings import CREDENTIAL_SETTINGS, Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
MAX_GROUPS = 20  # Graph checks at most 20 groups per request
TIMEOUT_SECONDS = 10.0
MAX_CACHED = 10_000


class MembershipUnavailable(RuntimeError):
    """Graph could not answer; the message names the cause, never the token."""


class InvalidObjectId(ValueError):
    """Not an Entra object id (a GUID); refused before anything is sent."""


def checked_guid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not GUID.fullmatch(value):
        raise InvalidObjectId(f"{what} must be an Entra object id (a GUID), got {value!r:.60}")
    return value.lower()


class GroupMembership:
    """Asks Graph, through `credential` (an azure-core TokenCredential), and caches for `ttl`."""

    def __init__(
        self,
        endpoint: str,
        credential: TokenCredential,
        ttl: float = 300.0,
        *,
        verify: str | bool = True,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import requests

        self._endpoint = endpoint.rstrip("/")
        self._credential = credential
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._verify = verify  # per request: a session's own would lose to REQUESTS_CA_BUNDLE
        self._session = requests.Session()
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def member_of(self, object_id: str, group_ids: Iterable[str]) -> frozenset[str]:
        """The subset of `group_ids` (lower-cased) that `object_id` is a member of."""
        user = checked_guid(object_id, "user object id")
        groups = {checked_guid(g, "group id") for g in group_ids}
        now = self._clock()
        known: dict[str, bool] = {}
        with self._lock:
            for group in groups:
                cached = self._cache.get((user, group))
                if cached and cached[1] > now:
                    known[group] = cached[0]
        unknown = sorted(groups - set(known))
        for start in range(0, len(unknown), MAX_GROUPS):
            batch = unknown[start : start + MAX_GROUPS]
            found = self._check(user, batch)
            expires = self._clock() + self._ttl
            with self._lock:
                if len(self._cache) > MAX_CACHED:  # forget lapsed answers of past users
                    self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
                for group in batch:
                    known[group] = group in found
                    self._cache[(user, group)] = (known[group], expires)
        return frozenset(g for g, member in known.items() if member)

    def close(self) -> None:
        self._session.close()

    def _check(self, user: str, groups: list[str]) -> set[str]:
        import requests

        url = f"{self._endpoint}/v1.0/users/{user}/checkMemberGroups"
        try:
            token = self._credential.get_token(f"{self._endpoint}/.default").token
        except Exception as exc:  # any credential failure: no token, no answer
            raise MembershipUnavailable(f"no Graph token: {type(exc).__name__}") from exc
        try:
            response = self._session.post(
                url,
                json={"groupIds": groups},
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._timeout,
                verify=self._verify,
            )
        except requests.Timeout as exc:
            raise MembershipUnavailable(f"Graph did not answer within {self._timeout:g}s") from exc
        except requests.RequestException as exc:
            raise MembershipUnavailable(f"Graph unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise MembershipUnavailable(f"Graph answered {response.status_code}{_code(response)}")
        try:
            value = response.json()["value"]
            if not isinstance(value, list):
                raise TypeError("value is not a list")
            return {str(g).lower() for g in value}
        except (ValueError, KeyError, TypeError) as exc:
            raise MembershipUnavailable("Graph answered with an unreadable body") from exc


def _code(response: Any) -> str:
    """` (ErrorCode)` from a Graph error body, when there is one."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" ({str(code)[:60]})" if code else ""


def membership_from_settings(
    settings: Settings, credential: TokenCredential | None = None
) -> GroupMembership:
    """The GRAPH_ENDPOINT client with `credential`, the app's shared one; without it, a
    credential of its own from the settings (remediation.azure.credential)."""
    from remediation.azure.credential import CredentialConfigError, credential_from_settings

    env = settings.pick(CREDENTIAL_SETTINGS)
    if credential is None:
        try:
            credential = credential_from_settings(env)
        except CredentialConfigError as exc:  # its message names the setting, never a secret
            raise MembershipUnavailable(f"no credential for Graph: {exc}") from exc
        except Exception as exc:  # msal may reach the authority while building its app
            raise MembershipUnavailable(f"no credential for Graph: {type(exc).__name__}") from exc
    return GroupMembership(
        settings.get("GRAPH_ENDPOINT"), credential, verify=env["ARM_CA_BUNDLE"] or True
    )
