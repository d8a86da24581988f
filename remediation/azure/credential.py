"""An azure-core TokenCredential over msal: managed identity or a service principal.

Settings (environment or a mapping): AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET or
AZURE_CLIENT_CERTIFICATE_PATH (PEM with key and certificate), AZURE_AUTHORITY_HOST, and
ARM_CA_BUNDLE (a CA file to trust, e.g. the ARM simulator's). With neither a secret nor a
certificate, a managed identity is used (user-assigned when AZURE_CLIENT_ID is set).
Secrets are never logged.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError

log = logging.getLogger(__name__)

PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com"
KNOWN_AUTHORITY_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
    }
)
REFRESH_MARGIN_SECONDS = 300


class CredentialConfigError(ValueError):
    """Settings that cannot make a credential; the message names the setting."""


def _http_session(ca_bundle: str | None):
    """A requests session for msal; a CA bundle wins over REQUESTS_CA_BUNDLE in the env."""
    import requests

    session = requests.Session()
    if ca_bundle:
        session.verify = ca_bundle
        session.trust_env = False
    return session


class MsalCredential:
    """TokenCredential (get_token, get_token_info) backed by an msal client application.

    msal keeps its own token cache; on top of it, a token with more than five minutes left is
    returned without calling msal at all.
    """

    def __init__(self, app: Any, *, description: str) -> None:
        self._app = app
        self.description = description
        self._cache: dict[tuple[tuple[str, ...], str | None], AccessTokenInfo] = {}
        self._lock = threading.Lock()

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        info = self._token(scopes, claims)
        return AccessToken(info.token, info.expires_on)

    def get_token_info(self, *scopes: str, options: Mapping[str, Any] | None = None):
        return self._token(scopes, (options or {}).get("claims"))

    def close(self) -> None:
        """Nothing to release; present for the TokenCredential protocol."""

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        if not scopes:
            raise ValueError("at least one scope is required")
        cache_key = (tuple(scopes), claims)
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached and not claims and cached.expires_on - time.time() > REFRESH_MARGIN_SECONDS:
                return cached
            info = self._acquire(scopes, claims)
            self._cache[cache_key] = info
            return info

    def _acquire(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        import msal

        try:
            if isinstance(self._app, msal.ManagedIdentityClient):
                resource = scopes[0].removesuffix("/.default")
                result = self._app.acquire_token_for_client(
                    resource=resource, claims_challenge=claims
                )
            else:
                result = self._app.acquire_token_for_client(list(scopes), claims_challenge=claims)
        except (msal.ManagedIdentityError, ValueError, OSError) as exc:
            raise ClientAuthenticationError(
                message=f"{self.description}: token request failed: {exc}"
            ) from exc
        if "access_token" not in result:
            raise ClientAuthenticationError(
                message=(
                    f"{self.description}: {result.get('error', 'no token')}: "
                    f"{result.get('error_description', '')}".strip()
                )
            )
        expires_on = int(time.time()) + int(result["expires_in"])
        refresh_on = result.get("refresh_on")
        return AccessTokenInfo(
            result["access_token"],
            expires_on,
            token_type=result.get("token_type", "Bearer"),
            refresh_on=int(refresh_on) if refresh_on else None,
        )


def managed_identity_credential(
    client_id: str | None = None, *, ca_bundle: str | None = None
) -> MsalCredential:
    import msal

    identity = (
        msal.UserAssignedManagedIdentity(client_id=client_id)
        if client_id
        else msal.SystemAssignedManagedIdentity()
    )
    app = msal.ManagedIdentityClient(identity, http_client=_http_session(ca_bundle))
    kind = f"user-assigned managed identity {client_id}" if client_id else "managed identity"
    return MsalCredential(app, description=kind)


def client_credential(
    tenant_id: str,
    client_id: str,
    *,
    secret: str | None = None,
    certificate_path: str | None = None,
    authority_host: str = PUBLIC_AUTHORITY_HOST,
    ca_bundle: str | None = None,
) -> MsalCredential:
    """A service principal with a client secret or a PEM certificate (key + certificate)."""
    import msal

    if bool(secret) == bool(certificate_path):
        raise CredentialConfigError(
            "set exactly one of AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH"
        )
    credential: Any = secret or _certificate(certificate_path or "")
    host = authority_host.rstrip("/")
    hostname = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    try:
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=credential,
            authority=f"{host}/{tenant_id}",
            http_client=_http_session(ca_bundle),
            instance_discovery=hostname in KNOWN_AUTHORITY_HOSTS,
        )
    except ValueError as exc:
        raise CredentialConfigError(f"cannot use authority {host}: {exc}") from exc
    return MsalCredential(app, description=f"service principal {client_id}")


def _certificate(path: str) -> dict[str, str]:
    """msal's certificate credential from a PEM file holding the private key and certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        pem = Path(path).read_bytes()
        certificate = x509.load_pem_x509_certificate(pem)
        key = serialization.load_pem_private_key(pem, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CredentialConfigError(f"AZURE_CLIENT_CERTIFICATE_PATH: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialConfigError("AZURE_CLIENT_CERTIFICATE_PATH: Entra ID needs an RSA key")
    return {
        "private_key": pem.decode(),
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex(),  # msal asks for SHA-1
    }


def credential_from_settings(settings: Mapping[str, str] | None = None) -> MsalCredential:
    """Pick the credential the settings describe (see module docstring)."""
    env = os.environ if settings is None else settings
    client_id = env.get("AZURE_CLIENT_ID") or None
    ca_bundle = env.get("ARM_CA_BUNDLE") or None
    secret = env.get("AZURE_CLIENT_SECRET") or None
    certificate = env.get("AZURE_CLIENT_CERTIFICATE_PATH") or None
    if not (secret or certificate):
        return managed_identity_credential(client_id, ca_bundle=ca_bundle)
    tenant_id = env.get("AZURE_TENANT_ID")
    if not tenant_id or not client_id:
        raise CredentialConfigError("a service principal needs AZURE_TENANT_ID and AZURE_CLIENT_ID")
    return client_credential(
        tenant_id,
        client_id,
        secret=secret,
        certificate_path=certificate,
        authority_host=env.get("AZURE_AUTHORITY_HOST") or PUBLIC_AUTHORITY_HOST,
        ca_bundle=ca_bundle,
    )


class SharedCredential:
    """The app's one credential (store, queue, ARM, Graph, bot), built on its first token request.

    Building can reach the authority (a service principal's metadata), so it never happens
    at start: the app starts with Entra out of reach or its settings incomplete, and the call
    that wanted a token fails with ClientAuthenticationError naming the cause, which the
    store, the queue and the ARM clients already treat as a dependency out of reach (503).
    """

    description = "the app's credential"

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._settings = dict(settings)
        self._credential: MsalCredential | None = None
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self._built().get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Mapping[str, Any] | None = None):
        return self._built().get_token_info(*scopes, options=options)

    def close(self) -> None:
        """Nothing to release; present for the TokenCredential protocol."""

    def _built(self) -> MsalCredential:
        with self._lock:
            if self._credential is None:
                try:
                    self._credential = credential_from_settings(self._settings)
                except CredentialConfigError as exc:  # names the setting, never a secret
                    raise ClientAuthenticationError(message=str(exc)) from exc
                except (ValueError, OSError) as exc:  # msal reaching the authority
                    raise ClientAuthenticationError(
                        message=f"no credential: {type(exc).__name__}"
                    ) from exc
                self.description = self._credential.description
            return self._credential
