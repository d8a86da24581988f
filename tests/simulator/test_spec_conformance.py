"""The simulator against Microsoft's own REST API examples (tests/simulator/spec_examples/).

Each example from Azure/azure-rest-api-specs (provenance in spec_examples/SOURCES.md) is
replayed as the same request against the simulator's estate, and the answer must have the
example's status and headers, and every field of the example's body with the same JSON type.
Fields the simulator leaves out are listed below with the reason, so a gap is a decision on
record, not an accident.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.simulator_fixtures import sp_credential

EXAMPLES = Path(__file__).with_name("spec_examples")
BACKUP_VAULT = (
    "/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-backup-weu"
)
MIGRATE_VAULT = (
    "/resourceGroups/rg-migration/providers/Microsoft.RecoveryServices/vaults/rsv-migrate-weu"
)
WEB01_ITEM = (
    BACKUP_VAULT + "/backupFabrics/Azure/protectionContainers/"
    "IaasVMContainer;iaasvmcontainerv2;rg-web-prod;web-01/protectedItems/"
    "VM;iaasvmcontainerv2;rg-web-prod;web-01"
)
BACKUP_RG = "/resourceGroups/AzureBackupRG_westeurope_1"
API = {
    "backup": "2025-08-01",
    "compute": "2025-04-01",
    "locks": "2020-05-01",
    "siterecovery": "2025-08-01",
}

# Body fields of the examples the simulated resources do not carry, and why.
NOT_SIMULATED = {
    "tags": "simulated resources carry no tags",
    "properties.restorePoints[].properties.excludeDisks": "simulated VMs have no data disks",
    "properties.restorePoints[].properties.sourceMetadata": "disk metadata: no simulated disks",
    "properties.restorePoints[].properties.instanceView": "not read by the bot",
    "bootDiagnostics": "boot diagnostics are not simulated",
    "patchStatus": "patch assessment is not simulated",
    "properties.customDetails.affectedObjectDetails": "Hyper-V/VMM details, not VMware",
    "properties.extendedInfo.tasksList[].duration": "task timings are not simulated",
    "properties.extendedInfo.tasksList[].endTime": "task timings are not simulated",
    "properties.extendedInfo.tasksList[].startTime": "task timings are not simulated",
    "properties.extendedInfo.tasksList[].progressPercentage": "task timings are not simulated",
    "properties.extendedInfo.tasksList[].taskExecutionDetails": "task timings are not simulated",
    "properties.extendedInfo.tasksList[].instanceId": "task timings are not simulated",
    "properties.extendedInfo.progressPercentage": "progress is not simulated",
    "properties.extendedInfo.estimatedRemainingDuration": "progress is not simulated",
    "properties.extendedInfo.internalPropertyBag": "not read by the bot",
    "properties.extendedInfo.propertyBag.Backup Size": "no data is transferred",
    "properties.extendedInfo.propertyBag.Job Type": "not read by the bot",
    "properties.extendedInfo.propertyBag.Instant Restore Capability": "not read by the bot",
    "properties.extendedInfo.propertyBag.Snapshot Retention Period": "not read by the bot",
}


def _load(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def _fields(value: Any, path: str = "") -> Iterator[tuple[str, type]]:
    """(dotted path, JSON type) of every field in `value`; list items share `[]`."""
    if isinstance(value, dict):
        for name, inner in value.items():
            where = f"{path}.{name}" if path else name
            yield where, _kind(inner)
            yield from _fields(inner, where)
    elif isinstance(value, list):
        for item in value:
            yield from _fields(item, f"{path}[]")


def _kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int | float):
        return float
    return type(value)


def _missing(example: Any, answer: Any) -> list[str]:
    """Fields of the example absent from the answer or of another JSON type (null matches
    any type: an unset optional field)."""
    got = dict(_fields(answer))
    problems = []
    for path, kind in _fields(example):
        if _excused(path) or any(
            got.get(parent) is type(None) for parent in _parents(path)
        ):  # a gap on record, or inside an optional object the answer leaves null
            continue
        if path not in got:
            problems.append(f"{path}: missing")
        elif kind is not type(None) and got[path] is not type(None) and got[path] is not kind:
            problems.append(f"{path}: {got[path].__name__}, example has {kind.__name__}")
    return sorted(set(problems))


def _excused(path: str) -> bool:
    bare = path.removeprefix("value[].")
    return any(bare == gap or bare.startswith((gap + ".", gap + "[")) for gap in NOT_SIMULATED)


def _parents(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


class Client:
    """Raw HTTPS to the simulator, signed in as the tests' service principal."""

    def __init__(self, sim) -> None:
        self.sim = sim
        token = sp_credential(sim).get_token(f"{sim.base_url}/.default").token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.sub = f"/subscriptions/{sim.estate.subscription_id}"
        self.last_operation = ""

    def call(self, method: str, path: str, api: str, body: Any = None, **query: str):
        params = {"api-version": api, **query}
        url = f"{self.sim.base_url}{self.sub}{path}"
        return self.session.request(
            method, url, params=params, json=body, timeout=10, verify=self.sim.ca_path
        )


def _started_job(client: Client) -> str:
    """Trigger web-01's backup and follow its operation to the job it creates."""
    answer = client.call(
        "POST",
        WEB01_ITEM + "/backup",
        API["backup"],
        {"properties": {"objectType": "IaasVMBackupRequest"}},
    )
    operation = answer.headers["Azure-AsyncOperation"].split("/operationsStatus/")[1]
    operation = client.last_operation = operation.split("?")[0]
    for _ in range(5):
        status = client.call("GET", f"{WEB01_ITEM}/operationsStatus/{operation}", API["backup"])
        if status.json()["status"] == "Succeeded":
            return status.json()["properties"]["jobId"]
    raise AssertionError("the trigger's operation never named a job")


def _this_year(job_filter: str) -> str:
    """The example's filter with its 2016-2017 window moved around today."""
    return job_filter.replace("2016-01-01", "2020-01-01").replace("2017-11-29", "2099-01-01")


def _collection(client: Client) -> str:
    listed = client.call(
        "GET", BACKUP_RG + "/providers/Microsoft.Compute/restorePointCollections", API["compute"]
    ).json()["value"]
    return next(c["name"] for c in listed if c["properties"]["source"]["id"].endswith("/web-01"))


def _broken_item(client: Client) -> str:
    listed = client.call("GET", MIGRATE_VAULT + "/replicationMigrationItems", API["siterecovery"])
    return next(i["id"] for i in listed.json()["value"] if i["properties"]["health"] != "Normal")


def _sub_path(resource_id: str) -> str:
    return "/" + resource_id.split("/", 3)[3]


Request = Callable[[Client], requests.Response]
CASES: dict[str, Request] = {
    "backup/Compute_ProtectedItem_Get.json": lambda c: c.call("GET", WEB01_ITEM, API["backup"]),
    "backup/GetJobDetails.json": lambda c: c.call(
        "GET", f"{BACKUP_VAULT}/backupJobs/{_started_job(c)}", API["backup"]
    ),
    "backup/ListJobs.json": lambda c: (
        _started_job(c),
        c.call("GET", BACKUP_VAULT + "/backupJobs", API["backup"]),
    )[1],
    "backup/ListJobsWithAllSupportedFilters.json": lambda c: (
        _started_job(c),
        c.call(
            "GET",
            BACKUP_VAULT + "/backupJobs",
            API["backup"],
            **{
                "$filter": _this_year(
                    _load("backup/ListJobsWithAllSupportedFilters.json")["parameters"]["$filter"]
                )
            },
        ),
    )[1],
    "backup/ProtectedItemOperationStatus.json": lambda c: (
        _started_job(c),
        c.call("GET", f"{WEB01_ITEM}/operationsStatus/{c.last_operation}", API["backup"]),
    )[1],
    "backup/TriggerBackup_Post.json": lambda c: c.call(
        "POST",
        WEB01_ITEM + "/backup",
        API["backup"],
        _load("backup/TriggerBackup_Post.json")["parameters"]["parameters"],
    ),
    "compute/RestorePointCollection_Get.json": lambda c: c.call(
        "GET",
        f"{BACKUP_RG}/providers/Microsoft.Compute/restorePointCollections/{_collection(c)}",
        API["compute"],
    ),
    "compute/RestorePointCollection_Get_WithContainedRestorePoints.json": lambda c: c.call(
        "GET",
        f"{BACKUP_RG}/providers/Microsoft.Compute/restorePointCollections/{_collection(c)}",
        API["compute"],
        **{"$expand": "restorePoints"},
    ),
    "compute/RestorePointCollection_ListByResourceGroup.json": lambda c: c.call(
        "GET", BACKUP_RG + "/providers/Microsoft.Compute/restorePointCollections", API["compute"]
    ),
    "compute/VirtualMachine_Get_InstanceView.json": lambda c: c.call(
        "GET",
        "/resourceGroups/rg-web-prod/providers/Microsoft.Compute/virtualMachines/web-01"
        "/instanceView",
        API["compute"],
    ),
    "locks/ManagementLocks_ListAtResourceGroupLevel.json": lambda c: c.call(
        "GET", BACKUP_RG + "/providers/Microsoft.Authorization/locks", API["locks"]
    ),
    "locks/ManagementLocks_DeleteAtResourceGroupLevel.json": lambda c: c.call(
        "DELETE",
        BACKUP_RG + "/providers/Microsoft.Authorization/locks/protect-backup-rg",
        API["locks"],
    ),
    "locks/ManagementLocks_DeleteAtResourceLevel.json": lambda c: c.call(
        "DELETE",
        f"{BACKUP_RG}/providers/Microsoft.Compute/restorePointCollections/"
        f"{_collection(c)}/providers/Microsoft.Authorization/locks/no-such-lock",
        API["locks"],
    ),
    "siterecovery/ReplicationMigrationItems_Get.json": lambda c: c.call(
        "GET", _sub_path(_broken_item(c)), API["siterecovery"]
    ),
    "siterecovery/ReplicationMigrationItems_ListByReplicationProtectionContainers.json": (
        lambda c: c.call("GET", _sub_path(_broken_item(c)).rsplit("/", 1)[0], API["siterecovery"])
    ),
    "siterecovery/ReplicationMigrationItems_Resync.json": lambda c: c.call(
        "POST",
        _sub_path(_broken_item(c)) + "/resync",
        API["siterecovery"],
        _load("siterecovery/ReplicationMigrationItems_Resync.json")["parameters"]["input"],
    ),
    "siterecovery/ReplicationJobs_Get.json": lambda c: c.call(
        "GET",
        MIGRATE_VAULT
        + "/replicationJobs/"
        + c.call(
            "POST",
            _sub_path(_broken_item(c)) + "/resync",
            API["siterecovery"],
            _load("siterecovery/ReplicationMigrationItems_Resync.json")["parameters"]["input"],
        )
        .headers["Azure-AsyncOperation"]
        .rsplit("/", 1)[1]
        .split("?")[0],
        API["siterecovery"],
    ),
}
# Examples of operations the bot never calls, so the simulator does not serve them.
NOT_SERVED = {
    "backup/TriggerCancelJob.json": "the bot never cancels a backup job",
    "compute/RestorePointCollection_Delete_MaximumSet_Gen.json": "covered by the playbook tests "
    "(the example carries no request the estate can name)",
    "compute/VirtualMachineExtension_Delete_MaximumSet_Gen.json": "covered by the playbook tests",
    "locks/ManagementLocks_ListAtResourceLevel.json": "the bot lists locks per resource group, "
    "which includes the locks on the group's resources",
    "siterecovery/ReplicationMigrationItems_PauseReplication.json": "the bot never pauses",
    "siterecovery/ReplicationMigrationItems_ResumeReplication.json": "the bot never resumes",
}


def test_every_example_is_replayed_or_excused():
    on_disk = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json")}
    assert on_disk == set(CASES) | set(NOT_SERVED)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_simulator_answers_as_the_example(sim, name):
    example = _load(name)
    answer = CASES[name](Client(sim))
    assert str(answer.status_code) in example["responses"], (answer.status_code, answer.text)
    expected = example["responses"][str(answer.status_code)]
    if answer.request.method != "GET":  # the GET examples echo their LRO's headers
        for header in expected.get("headers") or {}:
            if header != "Retry-After":  # sent only when a test asks (pollers would wait)
                assert header.lower() in {h.lower() for h in answer.headers}, header
    if expected.get("body") is not None:
        assert _missing(expected["body"], answer.json()) == []
