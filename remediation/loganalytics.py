"""Log Analytics facts for "why did VM X fail": recent Backup and ASR jobs of one VM.

Queries go through azure-monitor-query's LogsQueryClient. KQL has no parameter binding in
that API, so the VM name is validated against Azure's naming rules first and then written as
a quoted literal; nothing else from the user reaches the query text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from remediation.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.monitor.query import LogsQueryClient
from remediation.vmnames import checked_vm_name, kql_string

LOOKBACK = timedelta(days=7)


def backup_jobs_query(vm: str) -> str:
    name = kql_string(checked_vm_name(vm))
    return (
        "AddonAzureBackupJobs\n"
        '| where JobOperation == "Backup"\n'
        f"| where BackupItemFriendlyName =~ {name} or DatasourceFriendlyName =~ {name}\n"
        "| summarize arg_max(TimeGenerated, *) by JobUniqueId\n"
        "| project TimeGenerated, JobStatus, JobFailureCode, JobStartDateTime, JobUniqueId\n"
        "| order by TimeGenerated desc\n"
        "| take 10"
    )


def asr_jobs_query(vm: str) -> str:
    name = kql_string(checked_vm_name(vm))
    return (
        "ASRJobs\n"
        f"| where ReplicatedItemFriendlyName =~ {name} or SourceFriendlyName =~ {name}\n"
        "| project TimeGenerated, OperationName, Status, ResultDescription, StartTime, EndTime\n"
        "| order by TimeGenerated desc\n"
        "| take 10"
    )


class LogFacts:
    """Runs the two queries against the configured workspace, if there is one."""

    def __init__(
        self,
        settings: Settings,
        credential: TokenCredential | None = None,
        client: LogsQueryClient | None = None,
    ) -> None:
        self._workspace = settings.get("LOG_ANALYTICS_WORKSPACE_ID")
        self._credential = credential
        self._client = client

    @property
    def configured(self) -> bool:
        return bool(self._workspace)

    def for_vm(self, vm: str) -> dict[str, list[dict[str, Any]]]:
        if not self.configured:
            return {}
        return {
            "backup_jobs": self._rows(backup_jobs_query(vm)),
            "asr_jobs": self._rows(asr_jobs_query(vm)),
        }

    def _rows(self, query: str) -> list[dict[str, Any]]:
        response = self._logs().query_workspace(self._workspace, query, timespan=LOOKBACK)
        tables = getattr(response, "tables", None) or []
        return [dict(zip(t.columns, row, strict=False)) for t in tables for row in t.rows]

    def _logs(self) -> LogsQueryClient:
        if self._client is None:
            from azure.monitor.query import LogsQueryClient

            if self._credential is None:
                raise ValueError("Log Analytics needs a credential (or a client)")

            self._client = LogsQueryClient(self._credential)
        return self._client
