"""KQL is built only from validated VM names; hostile input never reaches a query."""

from __future__ import annotations

import pytest

from remediation.loganalytics import LogFacts, asr_jobs_query, backup_jobs_query
from remediation.settings import Settings
from remediation.vmnames import InvalidVmName, checked_vm_name
from tests.reliability.summary import record

HOSTILE = [
    'x" | union *',
    "erp-app-03\n| union *",
    "${jndi}",
    "<script>alert(1)</script>",
    "vm name with spaces",
    "a" * 65,
    "-leading-dash",
    "",
    "erp'app",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_vm_names_are_rejected_before_any_query(name):
    for query in (backup_jobs_query, asr_jobs_query):
        record("injection", into_kql=1)
        with pytest.raises(InvalidVmName):
            query(name)
        record("injection", blocked=1)


@pytest.mark.parametrize("name", ["erp-app-03", "WEB01", "sql_prod.2", "a"])
def test_valid_names_are_quoted_literals(name):
    assert checked_vm_name(name) == name
    assert f'=~ "{name}"' in backup_jobs_query(name)
    assert f'=~ "{name}"' in asr_jobs_query(name)


class _Table:
    columns = ["JobStatus", "JobFailureCode"]
    rows = [["Failed", "UserErrorRpCollectionLimitReached"]]


class _Response:
    tables = [_Table()]


class _Client:
    def __init__(self):
        self.calls = []

    def query_workspace(self, workspace, query, timespan):
        self.calls.append((workspace, query))
        return _Response()


def test_facts_query_the_configured_workspace():
    client = _Client()
    facts = LogFacts(Settings({"LOG_ANALYTICS_WORKSPACE_ID": "ws-1"}), client=client)
    rows = facts.for_vm("erp-app-03")
    assert rows["backup_jobs"] == [
        {"JobStatus": "Failed", "JobFailureCode": "UserErrorRpCollectionLimitReached"}
    ]
    assert [c[0] for c in client.calls] == ["ws-1", "ws-1"]
    assert "AddonAzureBackupJobs" in client.calls[0][1] and "ASRJobs" in client.calls[1][1]


def test_no_workspace_means_no_query():
    assert LogFacts(Settings({}), client=_Client()).for_vm("erp-app-03") == {}
