"""The msal-backed credential against the simulator's real token endpoints."""

import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError

from remediation.azure.credential import (
    CredentialConfigError,
    MsalCredential,
    client_credential,
    credential_from_settings,
    managed_identity_credential,
)
from tests.simulator_fixtures import clients_for

SCOPE = "https://management.azure.com/.default"


@pytest.fixture
def imds(sim, monkeypatch):
    """Send msal's IMDS flow to the simulator; ignore any ambient managed-identity endpoints."""
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", sim.base_url)
    return sim


def arm_calls(clients, n=3):
    for _ in range(n):
        list(clients.locks.management_locks.list_at_resource_group_level("rg-backup"))
        clients.compute.virtual_machines.instance_view("rg-web-prod", "web-01")


def test_service_principal_secret_one_token_for_many_calls(sim):
    before = sim.tokens.requests["client_credentials"]
    clients = clients_for(sim)
    arm_calls(clients)
    assert sim.tokens.requests["client_credentials"] == before + 1
    assert sim.requests.writes == 0
    assert sim.requests.reads == 6


def test_service_principal_wrong_secret_is_an_authentication_error(sim):
    sim.tokens.register_client("app-known", "right")
    try:
        credential = client_credential(
            "t1", "app-known", secret="wrong", authority_host=sim.base_url, ca_bundle=sim.ca_path
        )
        with pytest.raises(ClientAuthenticationError) as caught:
            credential.get_token(SCOPE)
        assert "invalid_client" in str(caught.value)
        assert "wrong" not in str(caught.value)
    finally:
        sim.tokens._clients.clear()


def test_service_principal_certificate(sim, tmp_path):
    pem = tmp_path / "sp.pem"
    leaf = trustme.CA().issue_cert("app", key_type=trustme.KeyType.RSA)
    pem.write_bytes(leaf.private_key_and_cert_chain_pem.bytes())
    settings = {
        "AZURE_TENANT_ID": "t1",
        "AZURE_CLIENT_ID": "app-cert",
        "AZURE_CLIENT_CERTIFICATE_PATH": str(pem),
        "AZURE_AUTHORITY_HOST": sim.base_url,
        "ARM_CA_BUNDLE": sim.ca_path,
    }
    credential = credential_from_settings(settings)
    token = credential.get_token_info(SCOPE)
    assert sim.tokens.is_valid(f"Bearer {token.token}")


def test_certificate_with_an_ec_key_is_refused(tmp_path):
    pem = tmp_path / "ec.pem"
    pem.write_bytes(trustme.CA().issue_cert("app").private_key_and_cert_chain_pem.bytes())
    with pytest.raises(CredentialConfigError, match="RSA"):
        client_credential("t", "a", certificate_path=str(pem))


def test_system_and_user_assigned_managed_identity(imds):
    for client_id in (None, "uami-client-id"):
        before = imds.tokens.requests["managed_identity"]
        credential = managed_identity_credential(client_id, ca_bundle=imds.ca_path)
        arm_calls(clients_for(imds, credential=credential), n=2)
        assert imds.tokens.requests["managed_identity"] == before + 1


@pytest.fixture
def app_service(sim, monkeypatch):
    """msal's App Service flow (the variables a Function App gets) against the simulator."""
    for name in ("IDENTITY_SERVER_THUMBPRINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{sim.base_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", sim.tokens.identity_header)
    attached = sim.tokens.site_identities
    sim.tokens.site_identities = {"uami-client-id"}  # a site with one user-assigned identity
    yield sim
    sim.tokens.site_identities = attached


def test_app_service_endpoint_gives_the_attached_identity_only(app_service):
    credential = managed_identity_credential("uami-client-id", ca_bundle=app_service.ca_path)
    assert app_service.tokens.is_valid(f"Bearer {credential.get_token(SCOPE).token}")
    assert app_service.tokens.managed_identities["uami-client-id"] >= 1
    for client_id in (None, "another-client-id"):  # not attached to the site
        other = managed_identity_credential(client_id, ca_bundle=app_service.ca_path)
        with pytest.raises(ClientAuthenticationError, match="No Managed Identity found"):
            other.get_token(SCOPE)


def test_app_service_endpoint_wants_the_identity_header(app_service, monkeypatch):
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-platform-secret")
    credential = managed_identity_credential("uami-client-id", ca_bundle=app_service.ca_path)
    with pytest.raises(ClientAuthenticationError, match="X-IDENTITY-HEADER"):
        credential.get_token(SCOPE)


def test_managed_identity_from_settings_without_secret(imds):
    credential = credential_from_settings({"ARM_CA_BUNDLE": imds.ca_path})
    assert credential.description == "managed identity"
    assert imds.tokens.is_valid(f"Bearer {credential.get_token(SCOPE).token}")


class CountingApp:
    """Wraps a real msal app to count how often the credential asks it for a token."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    def acquire_token_for_client(self, *args, **kwargs):
        self.calls += 1
        return self.app.acquire_token_for_client(*args, **kwargs)


def test_cached_token_skips_msal_until_near_expiry(sim):
    real = client_credential(
        "t1", "app-cache", secret="s", authority_host=sim.base_url, ca_bundle=sim.ca_path
    )
    counting = CountingApp(real._app)
    credential = MsalCredential(counting, description="test")
    first = credential.get_token(SCOPE)
    assert credential.get_token(SCOPE).token == first.token
    assert credential.get_token_info(SCOPE).token == first.token
    assert counting.calls == 1
    sim.tokens.lifetime = 120
    try:
        short = MsalCredential(CountingApp(real._app), description="short")
        short.get_token("api://other/.default")
        short.get_token("api://other/.default")
        assert short._app.calls == 2
    finally:
        sim.tokens.lifetime = 3600


@pytest.mark.parametrize(
    "settings",
    [
        {"AZURE_CLIENT_SECRET": "x", "AZURE_CLIENT_ID": "a"},
        {"AZURE_CLIENT_SECRET": "x", "AZURE_TENANT_ID": "t"},
        {
            "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent.pem",
            "AZURE_CLIENT_ID": "a",
            "AZURE_TENANT_ID": "t",
        },
    ],
)
def test_incomplete_settings_are_a_clear_error(settings):
    with pytest.raises(CredentialConfigError):
        credential_from_settings(settings)
