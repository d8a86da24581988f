"""Entra ID and IMDS token endpoints, so msal credentials run for real against the simulator.

Service principal: `{base}/{tenant}/v2.0/.well-known/openid-configuration` and its token
endpoint (client credentials with a secret or a certificate assertion). Managed identity: the
IMDS route `GET /metadata/identity/oauth2/token` (msal goes there when
AZURE_POD_IDENTITY_AUTHORITY_HOST points at the simulator), and the App Service / Azure
Functions route `GET /msi/token` (msal goes there when IDENTITY_ENDPOINT and IDENTITY_HEADER
are set, as the platform sets them on a Function App). Tokens are shaped like Entra's
(an unsigned JWT naming the audience, tenant, issuer and lifetime), so local stand-ins that
read them, as Azurite's OAuth mode and the Service Bus stand-in do, accept them; ARM routes
accept only tokens issued here unless the simulator is told to accept any.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import Counter
from typing import Any

from aiohttp import web

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The tenant and app the local host, replay and the tests sign in as.
TEST_TENANT = "tenant-test"
TEST_CLIENT = "app-remediation-test"


class TokenIssuer:
    def __init__(self, *, lifetime: int = 3600, accept_any_token: bool = False) -> None:
        self.lifetime = lifetime
        self.accept_any_token = accept_any_token
        self.requests: Counter[str] = Counter()
        self._clients: dict[str, str | None] = {}
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()
        # App Service's token endpoint: the IDENTITY_HEADER secret and the identities attached
        # to the site (client ids; None stands for a system-assigned identity).
        self.identity_header = secrets.token_hex(16)
        self.site_identities: set[str | None] = {None}
        self.managed_identities: Counter[str] = Counter()

    def register_client(self, client_id: str, secret: str | None = None) -> None:
        """Only registered clients get tokens once any is registered; None = certificate only."""
        with self._lock:
            self._clients[client_id] = secret

    def issue(self, kind: str, audience: str = "", subject: str = TEST_CLIENT) -> tuple[str, int]:
        token = _jwt(audience, subject, self.lifetime)
        with self._lock:
            self._issued[token] = time.time() + self.lifetime
            self.requests[kind] += 1
        return token, self.lifetime

    def is_valid(self, authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        if self.accept_any_token:
            return True
        with self._lock:
            expires = self._issued.get(token)
        return expires is not None and expires > time.time()

    def check_client(self, form: dict[str, str]) -> str | None:
        """None when the client may have a token, else the reason it may not."""
        client_id = form.get("client_id", "")
        if form.get("grant_type") != "client_credentials":
            return "unsupported grant_type"
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                return "unsupported client_assertion_type"
            claims = _jwt_claims(assertion)
            if claims is None or claims.get("sub") != client_id:
                return "client_assertion is not a JWT for this client"
        elif not form.get("client_secret"):
            return "client_secret or client_assertion is required"
        with self._lock:
            if not self._clients:
                return None
            if client_id not in self._clients:
                return f"application '{client_id}' was not found"
            expected = self._clients[client_id]
        if not assertion and form.get("client_secret") != expected:
            return "invalid client secret"
        return None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration),
            web.post("/{tenant}/oauth2/v2.0/token", self._token),
            web.get("/metadata/identity/oauth2/token", self._imds_token),
            web.get("/msi/token", self._app_service_token),
        ]

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}/{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                ],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        problem = self.check_client(form)
        if problem:
            return web.json_response(
                {"error": "invalid_client", "error_description": problem}, status=401
            )
        scope = form.get("scope", "").split(" ")[0]
        token, lifetime = self.issue(
            "client_credentials", scope.removesuffix("/.default"), form.get("client_id", "")
        )
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": token,
            }
        )

    async def _imds_token(self, request: web.Request) -> web.Response:
        if request.headers.get("Metadata", "").lower() != "true":
            return web.json_response(
                {"error": "invalid_request", "error_description": "Required metadata header"},
                status=400,
            )
        resource = request.query.get("resource")
        if not resource:
            return web.json_response(
                {"error": "invalid_resource", "error_description": "resource is required"},
                status=400,
            )
        subject = request.query.get("client_id", "system-assigned")
        token, lifetime = self.issue("managed_identity", resource, subject)
        self.managed_identities[subject] += 1
        return web.json_response(
            {
                "access_token": token,
                "expires_in": str(lifetime),
                "expires_on": str(int(time.time()) + lifetime),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": request.query.get("client_id", "system-assigned"),
            }
        )

    async def _app_service_token(self, request: web.Request) -> web.Response:
        """App Service's REST endpoint reference (learn.microsoft.com/azure/app-service/
        overview-managed-identity#rest-endpoint-reference): GET with `resource`,
        `api-version` 2019-08-01 or later and the X-IDENTITY-HEADER secret; `client_id` picks
        a user-assigned identity, none means the system-assigned one. The statuses and messages
        of the refusals are this simulator's."""
        query = request.query
        if request.headers.get("X-IDENTITY-HEADER") != self.identity_header:
            return _app_service_error(401, "X-IDENTITY-HEADER is missing or wrong")
        if query.get("api-version", "") < "2019-08-01" or not query.get("resource"):
            return _app_service_error(400, "api-version 2019-08-01 and resource are required")
        client_id = query.get("client_id")
        if client_id not in self.site_identities:
            return _app_service_error(
                400, "No Managed Identity found for specified ClientId/ResourceId/PrincipalId."
            )
        subject = client_id or "system-assigned"
        token, lifetime = self.issue("managed_identity", query["resource"], subject)
        self.managed_identities[subject] += 1
        body = {
            "access_token": token,
            "expires_on": str(int(time.time()) + lifetime),
            "resource": query["resource"],
            "token_type": "Bearer",
        }
        return web.json_response(body | ({"client_id": client_id} if client_id else {}))


def _app_service_error(status: int, message: str) -> web.Response:
    return web.json_response({"statusCode": status, "message": message}, status=status)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(audience: str, subject: str, lifetime: int) -> str:
    """An Entra-shaped access token; the random signature part keeps every token unique."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{TEST_TENANT}/",
        "tid": TEST_TENANT,
        "appid": subject,
        "sub": subject,
        "iat": now,
        "nbf": now - 60,
        "exp": now + lifetime,
    }
    header = _b64(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.{secrets.token_urlsafe(32)}"


def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None
