"""Which Azure service a resource or alert belongs to, as far as the payload shows it.

The scope filter keeps what concerns Azure Backup and Azure Migrate; a parser records the
evidence it has (a resource id, a monitoring service, a Log Analytics table) as the signal's
`service`, so nothing downstream has to guess from free text.
"""

from __future__ import annotations

from collections.abc import Iterable

from remediation.textnorm import memo

BACKUP = "backup"
MIGRATE = "migrate"

_MONITORING_SERVICES = {"azure backup": BACKUP, "azure site recovery": MIGRATE}
# Resource types under a Recovery Services vault that belong to Site Recovery / Azure Migrate;
# the vault itself and its backup* children are Azure Backup's.
_REPLICATION_TYPES = (
    "replicationfabrics",
    "replicationjobs",
    "replicationevents",
    "replicationpolicies",
    "replicationprotectioncontainers",
    "replicationmigrationitems",
    "replicationprotecteditems",
)
_PROVIDERS = {
    "microsoft.recoveryservices": BACKUP,
    "microsoft.dataprotection": BACKUP,
    "microsoft.migrate": MIGRATE,
    "microsoft.offazure": MIGRATE,
}
# What a lower-cased resource id (with a trailing "/") holds for each.
_REPLICATION_SEGMENTS = tuple(f"/{kind}/" for kind in _REPLICATION_TYPES)
_PROVIDER_SEGMENTS = tuple((f"/providers/{name}/", service) for name, service in _PROVIDERS.items())
# Log Analytics tables (resource-specific and AzureDiagnostics categories) per service.
_TABLES = {
    "addonazurebackup": BACKUP,
    "coreazurebackup": BACKUP,
    "azurebackupreport": BACKUP,
    "asrjobs": MIGRATE,
    "asrreplicateditems": MIGRATE,
    "azuresiterecovery": MIGRATE,
}
_DIMENSIONS = {
    "jobfailurecode": BACKUP,
    "backupitemfriendlyname": BACKUP,
    "backupitemuniqueid": BACKUP,
    "replicateditemfriendlyname": MIGRATE,
    "replicateditemid": MIGRATE,
}


def of_monitoring_service(name: str | None) -> str | None:
    """Azure Backup's and Site Recovery's built-in alerts name their service."""
    return _MONITORING_SERVICES.get((name or "").strip().lower())


def of_resource(resource_id: str) -> str | None:
    """The service of an ARM resource id: Recovery Services and Data Protection resources are
    Backup's, except Site Recovery's replication* children; Migrate and OffAzure are Migrate's."""
    if not resource_id.startswith("/"):
        return None
    lowered = resource_id.lower() + "/"
    if not lowered.startswith("/subscriptions/"):
        return None
    if "/replication" in lowered:
        for segment in _REPLICATION_SEGMENTS:
            if segment in lowered:
                return MIGRATE
    for segment, service in _PROVIDER_SEGMENTS:
        if segment in lowered:
            return service
    return None


def of_provider(namespace: str | None) -> str | None:
    """The service of a resource provider namespace (Microsoft.RecoveryServices...)."""
    return _PROVIDERS.get((namespace or "").strip().lower())


def of_resources(resource_ids: Iterable[str | None]) -> str | None:
    return next((found for r in resource_ids if r and (found := of_resource(r))), None)


@memo
def of_query(query: str) -> str | None:
    """The service of a log search query, from the Backup or Site Recovery tables it reads."""
    lowered = query.lower()
    return next((service for table, service in _TABLES.items() if table in lowered), None)


def of_dimensions(names: Iterable[str]) -> str | None:
    return next((_DIMENSIONS[n.lower()] for n in names if n.lower() in _DIMENSIONS), None)
