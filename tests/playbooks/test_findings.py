"""What a person reads when Azure fails a read or a call (findings.py): a diagnose check whose
ARM read fails is a finding naming the resource it could not check, in words; a failure
names Azure's status, code and message, or says in words what went wrong; the evidence kept
for the card's Details (status, code, message, request id) comes from the failure or the one
it was raised from; a check family's findings are replaced, never doubled, when it runs again.

The exceptions are azure-core's own classes, carrying what the SDK sets on them
(status_code, error as ODataV4Format, response headers in a CaseInsensitiveDict)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ODataV4Format,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.utils import CaseInsensitiveDict

from remediation.playbooks.base import StepFailed
from remediation.playbooks.findings import error_facts, reason, record
from tests.playbooks.test_diagnose import findings_of, keyvault_alert, with_network

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups"
ZONE = f"{SUB}/rg-network/providers/Microsoft.Network/privateDnsZones/" + (
    "privatelink.westeurope.backup.windowsazure.com"
)
FQDN = "rsv-prod-weu.privatelink.westeurope.backup.windowsazure.com"


def test_reads_azure_fails_are_findings_naming_what_could_not_be_checked(pipeline):
    """Three reads fail three ways (502 with an ARM error, a dropped connection, a 404) and
    the other checks still run. Every line below was read against the demo network: the VM
    erp-app-03, the key vault kv-erp-prod, the vault's endpoint, zone, link and A record."""

    def azure_fails(faults):
        faults.error("compute.vm.instance_view", 502)
        faults.drop("keyvault.get")
        faults.error("dns.links.list", 404, code="ResourceNotFound", message="gone")

    p = pipeline([keyvault_alert()], prepare=with_network(), faults=azure_fails)
    assert findings_of(p) == [
        {"check": "vm-agent", "ok": False,
         "detail": "could not check: 502 BadGateway: Injected fault: BadGateway.",
         "resource_id": f"{SUB}/rg-erp-prod/providers/Microsoft.Compute/virtualMachines/"
         "erp-app-03"},
        {"check": "key-vault.access-policy", "ok": False,
         "detail": "could not check: Azure's answer was cut off",
         "resource_id": f"{SUB}/rg-erp-prod/providers/Microsoft.KeyVault/vaults/kv-erp-prod"},
        {"check": "private-endpoint.connection", "ok": True,
         "detail": "pe-rsv-prod-weu -> rsv-prod-weu: connection Approved (Approved by the vault "
         "owner)",
         "resource_id": f"{SUB}/rg-network/providers/Microsoft.Network/privateEndpoints/"
         "pe-rsv-prod-weu"},
        {"check": "private-dns.zone", "ok": True,
         "detail": f"privatelink.westeurope.backup.windowsazure.com exists for {FQDN}",
         "resource_id": ZONE},
        {"check": "private-dns.link", "ok": False,
         "detail": "could not check: 404 ResourceNotFound: gone", "resource_id": ZONE},
        {"check": "private-dns.a-record", "ok": True, "detail": f"{FQDN} -> 10.10.1.4",
         "resource_id": f"{ZONE}/A/rsv-prod-weu"},
    ]  # fmt: skip
    (run,) = p.runs()
    assert [j.get("note") for j in run["journal"] if j["phase"] != "start"] == [
        "vm-agent: 1 finding(s), 1 not ok",
        "key-vault: 1 finding(s), 1 not ok",
        "private-endpoint: 1 finding(s), 0 not ok",
        "private-dns: 3 finding(s), 1 not ok",
    ]


def _http_error(status=None, code=None, message=None, headers=None, cls=HttpResponseError):
    """An SDK error as azure-core raises it for an ARM reply."""
    exc = cls(message=message or "Operation returned an invalid status")
    exc.status_code = status
    body = {k: v for k, v in {"code": code, "message": message}.items() if v}
    exc.error = ODataV4Format({"error": body}) if body else None
    exc.response = SimpleNamespace(headers=CaseInsensitiveDict(headers or {}))
    return exc


LONG = "The resource is being updated by another operation; " * 40


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (_http_error(409, "Conflict", "Another operation is in progress."),
         "409 Conflict: Another operation is in progress."),
        (_http_error(404, None, "The vault was not found."), "404 The vault was not found."),
        (_http_error(404, "ResourceNotFound"), "404 ResourceNotFound:"),
        (_http_error(None, "AuthorizationFailed", "no read"), "AuthorizationFailed: no read"),
        (_http_error(409, "Conflict", LONG), f"409 Conflict: {LONG}"[:300]),
        (_http_error(502), "Azure answered HTTP 502"),
        (ServiceResponseTimeoutError("Read timed out"), "Azure did not answer in time"),
        (TimeoutError("timed out"), "Azure did not answer in time"),
        (ClientAuthenticationError("AADSTS7000215: Invalid client secret"),
         "Azure refused the app's sign-in"),
        (ServiceRequestError("Name or service not known"), "Azure could not be reached"),
        (ConnectionError("Connection refused"), "Azure could not be reached"),
        (ServiceResponseError("Connection aborted"), "Azure's answer was cut off"),
        (RuntimeError("a bug"), "an unexpected error in the app (its log has the details)"),
    ],
)  # fmt: skip
def test_a_failure_is_told_in_azures_words_or_in_plain_words(exc, said):
    assert reason(exc) == said


def test_the_evidence_names_the_request_to_quote_to_microsoft():
    both = {"x-ms-request-id": "req-1", "x-ms-correlation-request-id": "corr-1"}
    assert error_facts(_http_error(409, "Conflict", "busy", both)) == {
        "status": 409, "code": "Conflict", "message": "busy", "request_id": "req-1",
    }  # fmt: skip
    only_correlation = _http_error(409, headers={"X-Ms-Correlation-Request-Id": "corr-1"})
    assert error_facts(only_correlation)["request_id"] == "corr-1"
    assert "request_id" not in error_facts(_http_error(409))


def test_the_evidence_keeps_a_long_message_to_a_thousand_characters():
    facts = error_facts(_http_error(409, "Conflict", LONG))
    assert facts["message"] == LONG[:1000]


def test_a_failures_own_facts_win_and_the_one_it_was_raised_from_fills_the_gaps():
    cause = _http_error(404, "ResourceNotFound", "gone", {"x-ms-request-id": "req-404"})
    exc = _http_error(409, "Conflict")
    exc.response = None
    exc.__cause__ = cause
    assert error_facts(exc) == {
        "status": 409, "code": "Conflict", "message": "gone", "request_id": "req-404",
    }  # fmt: skip
    missing = _http_error(404, "ResourceNotFound", "gone", {"x-ms-request-id": "r"},
                          cls=ResourceNotFoundError)  # fmt: skip
    try:  # as verify.read turns a 404 into the step's own sentence
        raise StepFailed("Migration item of erp-db-01 was not found") from missing
    except StepFailed as raised:
        assert error_facts(raised) == {
            "status": 404, "code": "ResourceNotFound", "message": "gone", "request_id": "r",
        }  # fmt: skip


def test_a_check_family_replaces_its_own_findings_and_no_others():
    ctx = SimpleNamespace(state={"findings": [
        {"check": "vm-agent", "ok": True},
        {"check": "key-vault", "ok": False},
        {"check": "key-vault.access-policy", "ok": False},
        {"check": "key-vaults-extra", "ok": True},
    ]})  # fmt: skip
    fresh = [{"check": "key-vault.access-policy", "ok": True}]
    assert record(ctx, "key-vault", fresh) == "key-vault: 1 finding(s), 0 not ok"
    assert ctx.state["findings"] == [
        {"check": "vm-agent", "ok": True},
        {"check": "key-vaults-extra", "ok": True},
        {"check": "key-vault.access-policy", "ok": True},
    ]
    assert record(ctx, "vm-agent", []) == "vm-agent: 0 finding(s), 0 not ok"
    assert [f["check"] for f in ctx.state["findings"]] == [
        "key-vaults-extra", "key-vault.access-policy",
    ]  # fmt: skip
