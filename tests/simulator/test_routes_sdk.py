"""The real azure-mgmt clients against the running simulator, route by route."""

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

BACKUP_RG = "AzureBackupRG_westeurope_1"
MIGRATE = ("rg-migration", "rsv-migrate-weu")
BACKUP = ("rsv-backup-weu", "rg-backup")
RESYNC = {
    "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "skipCbtReset": "true"}}
}
BACKUP_REQUEST = {"properties": {"objectType": "IaasVMBackupRequest"}}


def item_path(item):
    parts = item.id.split("/")
    return parts[10], parts[12], parts[14]


def web01():
    return (
        "Azure",
        "IaasVMContainer;iaasvmcontainerv2;rg-web-prod;web-01",
        "VM;iaasvmcontainerv2;rg-web-prod;web-01",
    )


def collection_of(arm_clients, vm_name):
    return next(
        c
        for c in arm_clients.compute.restore_point_collections.list(BACKUP_RG)
        if c.source.id.lower().endswith(f"/virtualmachines/{vm_name}")
    )


def test_migration_items_list_get_and_resync_follow_the_job(arm_clients, sim):
    asr = arm_clients.site_recovery
    items = list(asr.replication_migration_items.list(*MIGRATE))
    assert len(items) == 8
    broken = next(i for i in items if i.properties.health == "Critical")
    fabric, container, name = item_path(broken)
    in_container = list(
        asr.replication_migration_items.list_by_replication_protection_containers(
            *MIGRATE, fabric, container
        )
    )
    assert len(in_container) == 8
    got = asr.replication_migration_items.get(*MIGRATE, fabric, container, name)
    assert got.properties.health_errors[0].error_code == "1018"
    assert "StartResync" in got.properties.allowed_operations

    poller = asr.replication_migration_items.begin_resync(*MIGRATE, fabric, container, name, RESYNC)
    result = poller.result()
    assert result.properties.health == "Normal"
    assert result.properties.health_errors == []
    job_name = sim.estate.to_state()["replication_jobs"][0]["id"].rsplit("/", 1)[1]
    job = asr.replication_jobs.get(*MIGRATE, job_name)
    assert job.properties.state == "Succeeded"
    assert [j.name for j in asr.replication_jobs.list(*MIGRATE)] == [job_name]
    assert sim.requests.count("asr.operation_status") >= 2


def test_resync_refused_without_start_resync(arm_clients, sim):
    item = next(iter(sim.estate.migration_items.values()))
    item.allowed_operations = ["DisableMigration"]
    with pytest.raises(HttpResponseError) as caught:
        arm_clients.site_recovery.replication_migration_items.begin_resync(
            *MIGRATE, item.fabric, item.container, item.name, RESYNC
        )
    assert caught.value.status_code == 400
    assert caught.value.error.code == "OperationNotAllowed"
    assert "StartResync" in caught.value.message
    assert sim.estate.replication_jobs == {}


def test_read_only_lock_blocks_resync_with_scope_locked(arm_clients, sim):
    arm_clients.locks.management_locks.create_or_update_at_resource_group_level(
        "rg-migration", "freeze", {"properties": {"level": "ReadOnly"}}
    )
    item = next(iter(sim.estate.migration_items.values()))
    with pytest.raises(ResourceExistsError) as caught:
        arm_clients.site_recovery.replication_migration_items.begin_resync(
            *MIGRATE, item.fabric, item.container, item.name, RESYNC
        )
    assert caught.value.error.code == "ScopeLocked"


def _trigger(backup) -> str:
    """POST the on-demand backup; returns the operation id its Azure-AsyncOperation names."""
    headers = backup.backups.trigger(
        *BACKUP,
        *web01(),
        BACKUP_REQUEST,
        cls=lambda response, _b, _h: response.http_response.headers,
    )
    assert "/operationResults/" in headers["Location"]
    return headers["Azure-AsyncOperation"].split("/operationsStatus/")[1].split("?")[0]


def _job_of(backup, operation_id) -> str:
    """Poll the trigger's operation as a client must: InProgress first, then the job id."""
    statuses = backup.protected_item_operation_statuses
    first = statuses.get(*BACKUP, *web01(), operation_id)
    assert (first.status, first.properties) == ("InProgress", None)
    done = statuses.get(*BACKUP, *web01(), operation_id)
    assert done.status == "Succeeded"
    assert done.properties.job_id != operation_id
    return done.properties.job_id


def test_trigger_backup_answers_an_operation_that_names_the_job_once_it_exists(arm_clients, sim):
    backup = arm_clients.backup
    job_name = _job_of(backup, _trigger(backup))
    assert sim.estate.to_state()["backup_requests"][0]["job_id"] == job_name
    running = list(
        backup.backup_jobs.list(*BACKUP, filter="status eq 'InProgress' and operation eq 'Backup'")
    )
    assert [j.name for j in running] == [job_name]


def _web01_jobs(arm_clients, job_filter: str | None = None) -> list:
    """web-01's jobs (the demo estate holds failed jobs of other VMs)."""
    jobs = arm_clients.backup.backup_jobs.list(*BACKUP, filter=job_filter)
    return [j for j in jobs if j.properties.entity_friendly_name == "web-01"]


def test_no_job_is_listed_until_the_operation_has_created_it(arm_clients, sim):
    _trigger(arm_clients.backup)
    assert _web01_jobs(arm_clients, "operation eq 'Backup'") == []
    assert len(_web01_jobs(arm_clients)) == 1  # time has passed


def test_a_second_trigger_while_a_backup_runs_is_refused_with_409(arm_clients, sim):
    _trigger(arm_clients.backup)
    with pytest.raises(HttpResponseError) as busy:
        _trigger(arm_clients.backup)
    assert (busy.value.status_code, busy.value.error.code) == (
        409,
        "UserErrorBackupOperationInProgress",
    )


def test_trigger_backup_on_a_full_locked_collection_fails_with_rp_limit(arm_clients, sim):
    backup = arm_clients.backup
    job_name = _job_of(backup, _trigger(backup))
    assert backup.job_details.get(*BACKUP, job_name).properties.status == "InProgress"
    job = backup.job_details.get(*BACKUP, job_name)
    assert job.properties.status == "Failed"
    assert job.properties.error_details[0].error_title == "UserErrorRpCollectionLimitReached"
    assert isinstance(job.properties.error_details[0].error_code, int)
    state = sim.estate.to_state()
    assert [r["vm"] for r in state["backup_requests"]] == ["web-01"]


def test_an_unknown_operation_id_is_404(arm_clients):
    with pytest.raises(ResourceNotFoundError):
        arm_clients.backup.protected_item_operation_statuses.get(*BACKUP, *web01(), "nope")


def test_trigger_backup_completes_and_adds_a_restore_point_after_cleanup(arm_clients, sim):
    locks = arm_clients.locks.management_locks
    lock = next(iter(locks.list_at_resource_group_level(BACKUP_RG)))
    locks.delete_at_resource_group_level(BACKUP_RG, lock.name)
    rpc = collection_of(arm_clients, "web-01")
    arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, rpc.name).result()
    job_name = _job_of(arm_clients.backup, _trigger(arm_clients.backup))
    assert arm_clients.backup.job_details.get(*BACKUP, job_name).properties.status == "InProgress"
    assert arm_clients.backup.job_details.get(*BACKUP, job_name).properties.status == "Completed"
    new = collection_of(arm_clients, "web-01")
    expanded = arm_clients.compute.restore_point_collections.get(
        BACKUP_RG, new.name, expand="restorePoints"
    )
    assert len(expanded.restore_points) == 1


def test_backup_jobs_filter_by_time_window(arm_clients, sim):
    _job_of(arm_clients.backup, _trigger(arm_clients.backup))
    window = "startTime eq '2020-01-01 00:00:00 AM' and endTime eq '2099-01-01 00:00:00 AM'"
    assert len(_web01_jobs(arm_clients, window)) == 1
    old = "startTime eq '2001-01-01 00:00:00 AM' and endTime eq '2002-01-01 00:00:00 AM'"
    assert list(arm_clients.backup.backup_jobs.list(*BACKUP, filter=old)) == []
    with pytest.raises(HttpResponseError) as caught:
        list(arm_clients.backup.backup_jobs.list(*BACKUP, filter="status gt 'x'"))
    assert caught.value.status_code == 400


def test_protected_items_list_and_get(arm_clients):
    items = list(arm_clients.backup.backup_protected_items.list(*BACKUP))
    assert len(items) == 20
    item = arm_clients.backup.protected_items.get(*BACKUP, *web01())
    assert item.properties.source_resource_id.endswith("/virtualMachines/web-01")


def test_restore_point_collection_delete_is_scope_locked_then_an_lro(arm_clients, sim):
    rpcs = arm_clients.compute.restore_point_collections
    rpc = collection_of(arm_clients, "erp-db-01")
    assert len(rpcs.get(BACKUP_RG, rpc.name, expand="restorePoints").restore_points) == 18
    with pytest.raises(ResourceExistsError) as caught:
        rpcs.begin_delete(BACKUP_RG, rpc.name)
    assert (caught.value.status_code, caught.value.error.code) == (409, "ScopeLocked")
    assert BACKUP_RG in caught.value.message

    sim.estate.delete_lock(next(iter(sim.estate.locks.values())).id)
    sim.requests.clear()
    rpcs.begin_delete(BACKUP_RG, rpc.name).result()
    assert [(e.method, e.route, e.status) for e in sim.requests.entries()] == [
        ("DELETE", "compute.rpc.delete", 202),
        ("GET", "compute.operations.get", 202),
        ("GET", "compute.operations.get", 200),
    ]
    assert len(list(rpcs.list_all())) == 19
    with pytest.raises(ResourceNotFoundError):
        rpcs.get(BACKUP_RG, rpc.name)


def test_restore_point_collection_delete_fails_first_n_times(arm_clients, sim):
    sim.estate.locks.clear()
    sim.estate.behaviour.rpc_delete_fail_first = 1
    rpc = collection_of(arm_clients, "web-02")
    with pytest.raises(HttpResponseError) as caught:
        arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, rpc.name)
    assert (caught.value.status_code, caught.value.error.code) == (409, "Conflict")
    arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, rpc.name).result()


def test_failed_first_delete_with_500_is_retried_by_azure_core(arm_clients, sim):
    sim.estate.locks.clear()
    sim.estate.behaviour.rpc_delete_fail_first = 2
    sim.estate.behaviour.rpc_delete_fail_status = 500
    rpc = collection_of(arm_clients, "web-02")
    arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, rpc.name).result()
    assert sim.requests.count("compute.rpc.delete") == 3


def test_locks_crud_preserves_name_level_notes_owners(arm_clients, sim):
    locks = arm_clients.locks.management_locks
    original = next(iter(locks.list_at_resource_group_level(BACKUP_RG)))
    owners = [{"applicationId": "11111111-aaaa-bbbb-cccc-222222222222"}]
    body = {"properties": {"level": "ReadOnly", "notes": "change freeze", "owners": owners}}
    created = locks.create_or_update_at_resource_group_level(BACKUP_RG, "freeze", body)
    assert (created.name, created.level, created.notes) == ("freeze", "ReadOnly", "change freeze")
    assert [o.application_id for o in created.owners] == [owners[0]["applicationId"]]
    got = locks.get_at_resource_group_level(BACKUP_RG, "freeze")
    assert got.id.endswith(
        "/resourceGroups/AzureBackupRG_westeurope_1/providers/Microsoft.Authorization/locks/freeze"
    )
    scoped = list(
        locks.list_by_scope(
            f"subscriptions/{sim.estate.subscription_id}/resourceGroups/{BACKUP_RG}"
        )
    )
    assert {lock.name for lock in scoped} == {original.name, "freeze"}

    locks.delete_at_resource_group_level(BACKUP_RG, original.name)
    locks.create_or_update_at_resource_group_level(
        BACKUP_RG, original.name, {"properties": {"level": original.level, "notes": original.notes}}
    )
    assert {lock["name"]: lock for lock in sim.estate.to_state()["locks"]}[original.name] | {
        "id": None
    } == {
        "id": None,
        "scope": original.id.split("/providers/")[0],
        "name": original.name,
        "level": "CanNotDelete",
        "notes": original.notes,
        "owners": [],
    }
    locks.delete_at_resource_group_level(BACKUP_RG, "freeze")
    with pytest.raises(ResourceNotFoundError):
        locks.get_at_resource_group_level(BACKUP_RG, "freeze")
    locks.delete_at_resource_group_level(BACKUP_RG, "freeze")
    statuses = [
        e.status for e in sim.requests.entries() if e.route in {"locks.put", "locks.delete"}
    ]
    assert statuses == [201, 200, 201, 200, 204]


def test_vm_instance_view_and_snapshot_extension_delete(arm_clients, sim):
    compute = arm_clients.compute
    view = compute.virtual_machines.instance_view("rg-shared", "file-02")
    assert view.vm_agent.statuses[0].display_status == "Not Ready"
    healthy = compute.virtual_machines.get("rg-web-prod", "web-03", expand="instanceView")
    assert healthy.instance_view.vm_agent.statuses[0].display_status == "Ready"
    extension = compute.virtual_machine_extensions.get("rg-web-prod", "web-03", "VMSnapshotLinux")
    assert (extension.publisher, extension.provisioning_state) == (
        "Microsoft.Azure.RecoveryServices",
        "Failed",
    )
    compute.virtual_machine_extensions.begin_delete(
        "rg-web-prod", "web-03", "VMSnapshotLinux"
    ).result()
    assert compute.virtual_machine_extensions.list("rg-web-prod", "web-03").value == []
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_extensions.get("rg-web-prod", "web-03", "VMSnapshotLinux")


def test_read_only_lock_blocks_extension_delete(arm_clients):
    arm_clients.locks.management_locks.create_or_update_at_resource_group_level(
        "rg-web-prod", "ro", {"properties": {"level": "ReadOnly"}}
    )
    with pytest.raises(ResourceExistsError) as caught:
        arm_clients.compute.virtual_machine_extensions.begin_delete(
            "rg-web-prod", "web-03", "VMSnapshotLinux"
        )
    assert caught.value.error.code == "ScopeLocked"


def test_network_dns_and_key_vault_reads(arm_clients, sim):
    endpoint = arm_clients.network.private_endpoints.get("rg-network", "pe-rsv-backup-weu")
    state = endpoint.private_link_service_connections[0].private_link_service_connection_state
    assert state.status == "Approved"
    zone = "privatelink.westeurope.backup.windowsazure.com"
    assert (
        arm_clients.private_dns.private_zones.get(
            "rg-network", zone
        ).number_of_virtual_network_links
        == 1
    )
    links = list(arm_clients.private_dns.virtual_network_links.list("rg-network", zone))
    assert links[0].virtual_network_link_state == "Completed"
    records = list(arm_clients.private_dns.record_sets.list_by_type("rg-network", zone, "A"))
    assert records[0].a_records[0].ipv4_address == "10.10.1.4"
    assert [r.name for r in arm_clients.private_dns.record_sets.list("rg-network", zone)] == [
        "rsv-backup-weu"
    ]
    vault_id = (
        f"/subscriptions/{sim.estate.subscription_id}/resourceGroups/rg-erp-prod/providers/"
        "Microsoft.KeyVault/vaults/kv-erp-prod"
    )
    vault = arm_clients.resources.resources.get_by_id(vault_id, api_version="2023-07-01")
    assert vault.properties["accessPolicies"][0]["permissions"]["keys"] == ["Get", "List", "Backup"]
    groups = [g.name for g in arm_clients.resources.resource_groups.list()]
    assert BACKUP_RG in groups


def test_subscription_lists_of_endpoints_zones_and_key_vaults(arm_clients, sim):
    (endpoint,) = arm_clients.network.private_endpoints.list_by_subscription()
    connection = endpoint.private_link_service_connections[0]
    assert connection.private_link_service_id.endswith("/vaults/rsv-backup-weu")
    assert endpoint.custom_dns_configs[0].ip_addresses == ["10.10.1.4"]
    zones = [z.name for z in arm_clients.private_dns.private_zones.list()]
    assert zones == ["privatelink.westeurope.backup.windowsazure.com"]
    vaults = arm_clients.resources.resources.list(
        filter="resourceType eq 'microsoft.keyvault/vaults'"
    )
    assert [(v.name, v.type, v.location) for v in vaults] == [
        ("kv-erp-prod", "Microsoft.KeyVault/vaults", "westeurope")
    ]
    everything = {r.type for r in arm_clients.resources.resources.list()}
    assert {"Microsoft.Compute/virtualMachines", "Microsoft.Network/privateDnsZones"} <= everything
    with pytest.raises(HttpResponseError) as caught:
        list(arm_clients.resources.resources.list(filter="location eq 'westeurope'"))
    assert caught.value.error.code == "InvalidFilterInQueryString"


def test_unknown_resources_and_routes_get_arm_404s(arm_clients, sim):
    with pytest.raises(ResourceNotFoundError) as caught:
        arm_clients.compute.virtual_machines.instance_view("rg-web-prod", "nope")
    assert caught.value.error.code == "ResourceNotFound"
    token = sim.tokens.issue("test")[0]
    response = requests.get(
        f"{sim.base_url}/subscriptions/x/providers/Microsoft.Nothing/things?api-version=1",
        headers={"Authorization": f"Bearer {token}"},
        verify=sim.ca_path,
        timeout=5,
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


def test_arm_requires_a_token_it_issued(sim):
    url = f"{sim.base_url}/subscriptions/{sim.estate.subscription_id}/resourcegroups"
    url += "?api-version=2022-09-01"
    for headers in ({}, {"Authorization": "Bearer forged"}):
        response = requests.get(url, headers=headers, verify=sim.ca_path, timeout=5)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    token = sim.tokens.issue("test")[0]
    ok = requests.get(
        url, headers={"Authorization": f"Bearer {token}"}, verify=sim.ca_path, timeout=5
    )
    assert ok.status_code == 200
    missing_version = requests.get(
        url.split("?")[0],
        headers={"Authorization": f"Bearer {token}"},
        verify=sim.ca_path,
        timeout=5,
    )
    assert missing_version.json()["error"]["code"] == "MissingApiVersionParameter"


def test_admin_endpoints_configure_faults_and_report_state(sim):
    def admin(method, path, **kw):
        return requests.request(
            method, f"{sim.base_url}/_sim/{path}", verify=sim.ca_path, timeout=5, **kw
        )

    configured = admin(
        "POST", "faults", json={"rules": [{"route": "locks.*", "status": 503, "times": 1}]}
    )
    assert configured.json()["rules"][0]["status"] == 503
    assert (
        admin("POST", "faults", json={"rules": [{"route": "x", "kind": "explode"}]}).status_code
        == 400
    )
    assert admin("GET", "state").json()["locks"][0]["level"] == "CanNotDelete"
    assert admin("GET", "requests").json()["writes"] == 0
    sim.estate.locks.clear()
    assert admin("POST", "reset").json() == {"reset": True}
    assert admin("GET", "faults").json()["rules"] == []
    assert len(admin("GET", "state").json()["locks"]) == 1


def test_a_lock_on_one_collection_is_set_and_lifted_at_its_own_scope(arm_clients, sim):
    locks = arm_clients.locks.management_locks
    rpc = collection_of(arm_clients, "web-02")
    scope = rpc.id.lstrip("/")
    put = locks.create_or_update_by_scope(scope, "keep-me", {"properties": {"level": "ReadOnly"}})
    assert put.id.lower() == f"{rpc.id}/providers/Microsoft.Authorization/locks/keep-me".lower()
    listed = {lock.id.lower() for lock in locks.list_at_resource_group_level(BACKUP_RG)}
    assert put.id.lower() in listed and len(listed) == 2  # the group's own lock, and this one
    assert locks.get_by_scope(scope, "keep-me").level == "ReadOnly"
    other = collection_of(arm_clients, "web-03")
    sim.estate.delete_lock(next(lk.id for lk in sim.estate.locks.values() if "web" not in lk.id))
    arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, other.name).result()
    with pytest.raises(ResourceExistsError) as caught:  # only this collection is still locked
        arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, rpc.name)
    assert caught.value.error.code == "ScopeLocked" and rpc.name in caught.value.message
    locks.delete_by_scope(scope, "keep-me")
    with pytest.raises(ResourceNotFoundError):
        locks.get_by_scope(scope, "keep-me")
    arm_clients.compute.restore_point_collections.begin_delete(BACKUP_RG, rpc.name).result()


def test_a_lock_on_a_resource_that_does_not_exist_is_404(arm_clients):
    missing = "subscriptions/x/resourceGroups/rg-none/providers/Microsoft.Compute/disks/nope"
    with pytest.raises(ResourceNotFoundError):
        arm_clients.locks.management_locks.create_or_update_by_scope(
            missing, "k", {"properties": {"level": "CanNotDelete"}}
        )
