"""The ARM REST subset the playbooks use, mapped onto the estate.

Paths match case-insensitively (ARM ids are, and some SDK templates use odd casing such as
`/aLL`). Handlers are synchronous: the estate answers from memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.simulator.errors import ArmError, not_found
from devtools.simulator.estate import Estate, key
from devtools.simulator.resources import iso, provider_id

SUB = "/subscriptions/{sub}"
RG = SUB + "/resourceGroups/{rg}"
VAULT = RG + "/providers/Microsoft.RecoveryServices/vaults/{vault}"
CONTAINER = VAULT + "/replicationFabrics/{fabric}/replicationProtectionContainers/{container}"
ITEM = CONTAINER + "/replicationMigrationItems/{item}"
PROTECTED = (
    VAULT + "/backupFabrics/{fabric}/protectionContainers/{pcontainer}/protectedItems/{pitem}"
)
COMPUTE = RG + "/providers/Microsoft.Compute"
VM = COMPUTE + "/virtualMachines/{vm}"
LOCKS = RG + "/providers/Microsoft.Authorization/locks"
# One lock at any scope: the subscription, a resource group, or a resource in it (ARM's
# `/{scope}/providers/Microsoft.Authorization/locks/{lockName}`).
LOCK_AT_SCOPE = (
    r"(?P<scope>/subscriptions/[^/]+(?:/resourceGroups/[^/]+(?:/providers/.+)?)?)"
    r"/providers/Microsoft\.Authorization/locks/(?P<lock>[^/]+)"
)
ZONE = RG + "/providers/Microsoft.Network/privateDnsZones/{zone}"


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """One ARM request, as a handler sees it."""

    estate: Estate
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    base: str

    def __getitem__(self, name: str) -> str:
        return self.params[name]

    @property
    def api_version(self) -> str:
        return self.query["api-version"]

    def url(self, path: str) -> str:
        return f"{self.base}{path}?api-version={self.api_version}"

    def lro_headers(self, **urls: str) -> dict[str, str]:
        headers = dict(urls)
        if not self.estate.behaviour.async_operation_header:
            headers.pop("Azure-AsyncOperation", None)
        if self.estate.behaviour.retry_after is not None:
            headers["Retry-After"] = str(self.estate.behaviour.retry_after)
        return headers


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, name: str, method: str, template: str, handler: Handler) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self.add_pattern(name, method, regex, handler)

    def add_pattern(self, name: str, method: str, regex: str, handler: Handler) -> None:
        """A route whose parameters a template cannot express (a scope of any depth)."""
        self.routes.append(Route(name, method, re.compile(f"{regex}/?", re.IGNORECASE), handler))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method and (found := route.pattern.fullmatch(path)):
                return route, found.groupdict()
        return None


def listing(items: list[dict[str, Any]]) -> Reply:
    return Reply(200, {"value": items})


def _props(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise ArmError(400, "InvalidRequestContent", "The request body must have 'properties'.")
    return properties


# -- resource groups and locks ---------------------------------------------------------------


def list_groups(ctx: Ctx) -> Reply:
    groups = ctx.estate.in_subscription(ctx.estate.resource_groups, ctx["sub"])
    return listing([g.to_arm() for g in groups])


def get_group(ctx: Ctx) -> Reply:
    return Reply(200, ctx.estate.require_group(ctx["sub"], ctx["rg"]).to_arm())


def list_locks(ctx: Ctx) -> Reply:
    """Locks on the group and on the resources in it, as the resource-group list returns."""
    ctx.estate.require_group(ctx["sub"], ctx["rg"])
    return listing([lock.to_arm() for lock in ctx.estate.locks_on(ctx["sub"], ctx["rg"])])


def list_subscription_locks(ctx: Ctx) -> Reply:
    return listing([x.to_arm() for x in ctx.estate.in_subscription(ctx.estate.locks, ctx["sub"])])


def lock_id(ctx: Ctx) -> str:
    return f"{ctx['scope']}/providers/Microsoft.Authorization/locks/{ctx['lock']}"


def get_lock(ctx: Ctx) -> Reply:
    lock = ctx.estate.get_lock(lock_id(ctx))
    if lock is None:
        raise ArmError(404, "LockNotFound", f"The lock '{ctx['lock']}' could not be found.")
    return Reply(200, lock.to_arm())


def put_lock(ctx: Ctx) -> Reply:
    properties = _props(ctx)
    owners = properties.get("owners") or []
    if not isinstance(owners, list) or not all(isinstance(o, dict) for o in owners):
        raise ArmError(400, "InvalidRequestContent", "'owners' must be a list of objects.")
    lock, created = ctx.estate.put_lock(
        ctx["scope"],
        ctx["lock"],
        str(properties.get("level", "")),
        properties.get("notes"),
        [{k: str(v) for k, v in o.items()} for o in owners],
    )
    return Reply(201 if created else 200, lock.to_arm())


def delete_lock(ctx: Ctx) -> Reply:
    return Reply(200 if ctx.estate.delete_lock(lock_id(ctx)) else 204)


# -- Site Recovery ---------------------------------------------------------------------------


def vault_of(ctx: Ctx):
    vault_id = provider_id(
        ctx["sub"], ctx["rg"], f"Microsoft.RecoveryServices/vaults/{ctx['vault']}"
    )
    return ctx.estate.get(ctx.estate.vaults, vault_id, "Microsoft.RecoveryServices/vaults")


def migration_item(ctx: Ctx):
    vault = vault_of(ctx)
    item_id = (
        f"{vault.id}/replicationFabrics/{ctx['fabric']}/replicationProtectionContainers/"
        f"{ctx['container']}/replicationMigrationItems/{ctx['item']}"
    )
    return ctx.estate.get(ctx.estate.migration_items, item_id, "replicationMigrationItems")


def list_items(ctx: Ctx) -> Reply:
    scope = vault_of(ctx).id
    if "container" in ctx.params:
        scope += f"/replicationFabrics/{ctx['fabric']}"
        scope += f"/replicationProtectionContainers/{ctx['container']}"
    prefix = key(scope) + "/"
    with ctx.estate.lock:
        items = [i.to_arm() for k, i in ctx.estate.migration_items.items() if k.startswith(prefix)]
    return listing(items)


def get_item(ctx: Ctx) -> Reply:
    return Reply(200, migration_item(ctx).to_arm())


def resync(ctx: Ctx) -> Reply:
    item = migration_item(ctx)
    details = _props(ctx).get("providerSpecificDetails") or {}
    if details.get("instanceType") != "VMwareCbt" or "skipCbtReset" not in details:
        raise ArmError(
            400,
            "InvalidInput",
            "providerSpecificDetails must be VMwareCbt with skipCbtReset for this item.",
        )
    job = ctx.estate.resync(item)
    urls = {"Location": ctx.url(f"{item.id}/operationresults/{job.name}")}
    if ctx.estate.behaviour.resync_names_job:
        status = ctx.url(f"{item.vault.id}/replicationOperationStatus/{job.name}")
        urls["Azure-AsyncOperation"] = status
    return Reply(202, headers=ctx.lro_headers(**urls))


def replication_job(ctx: Ctx, name: str):
    job_id = f"{vault_of(ctx).id}/replicationJobs/{name}"
    return ctx.estate.get(ctx.estate.replication_jobs, job_id, "replicationJobs")


def operation_status(ctx: Ctx) -> Reply:
    job = ctx.estate.poll_replication_job(replication_job(ctx, ctx["job"]))
    path = f"{job.vault.id}/replicationOperationStatus/{job.name}"
    return Reply(
        200,
        {
            "id": path,
            "name": job.name,
            "status": job.state,
            "startTime": iso(job.started),
            "endTime": iso(job.ended),
        },
    )


def item_operation_result(ctx: Ctx) -> Reply:
    job = replication_job(ctx, ctx["job"])
    if job.state == "InProgress":
        location = ctx.url(f"{job.target.id}/operationresults/{job.name}")
        return Reply(202, headers=ctx.lro_headers(Location=location))
    return Reply(200, job.target.to_arm())


def get_replication_job(ctx: Ctx) -> Reply:
    return Reply(200, ctx.estate.poll_replication_job(replication_job(ctx, ctx["job"])).to_arm())


def list_replication_jobs(ctx: Ctx) -> Reply:
    vault = vault_of(ctx)
    with ctx.estate.lock:
        jobs = [j.to_arm() for j in ctx.estate.replication_jobs.values() if j.vault is vault]
    return listing(jobs)


# -- Backup ----------------------------------------------------------------------------------


def protected_item(ctx: Ctx):
    vault = vault_of(ctx)
    item_id = (
        f"{vault.id}/backupFabrics/{ctx['fabric']}/protectionContainers/{ctx['pcontainer']}"
        f"/protectedItems/{ctx['pitem']}"
    )
    return ctx.estate.get(ctx.estate.protected_items, item_id, "protectedItems")


def list_protected_items(ctx: Ctx) -> Reply:
    vault = vault_of(ctx)
    with ctx.estate.lock:
        items = [i.to_arm() for i in ctx.estate.protected_items.values() if i.vault is vault]
    return listing(items)


def get_protected_item(ctx: Ctx) -> Reply:
    return Reply(200, protected_item(ctx).to_arm())


def trigger_backup(ctx: Ctx) -> Reply:
    item = protected_item(ctx)
    if _props(ctx).get("objectType") != "IaasVMBackupRequest":
        raise ArmError(400, "BMSUserErrorInvalidInput", "objectType must be IaasVMBackupRequest.")
    operation = ctx.estate.trigger_backup(item)
    return Reply(
        202,
        headers=ctx.lro_headers(
            **{
                "Location": ctx.url(f"{item.id}/operationResults/{operation.name}"),
                "Azure-AsyncOperation": ctx.url(f"{item.id}/operationsStatus/{operation.name}"),
            }
        ),
    )


def backup_job(ctx: Ctx, name: str):
    job_id = f"{vault_of(ctx).id}/backupJobs/{name}"
    return ctx.estate.get(ctx.estate.backup_jobs, job_id, "backupJobs")


def backup_operation(ctx: Ctx):
    item = protected_item(ctx)
    with ctx.estate.lock:
        operation = ctx.estate.backup_operations.get(ctx["op"])
    if operation is None or operation.item is not item:
        raise not_found("operationsStatus", ctx["op"], ctx["rg"])
    return operation


def backup_operation_status(ctx: Ctx) -> Reply:
    return Reply(200, ctx.estate.poll_backup_operation(backup_operation(ctx)).to_arm())


def backup_operation_result(ctx: Ctx) -> Reply:
    operation = backup_operation(ctx)
    if operation.status == "InProgress":
        location = ctx.url(f"{operation.item.id}/operationResults/{operation.name}")
        return Reply(202, headers=ctx.lro_headers(Location=location))
    return Reply(204)


FILTER_TERM = re.compile(r"(\w+)\s+eq\s+'([^']*)'", re.IGNORECASE)


def parse_odata_filter(
    text: str | None, error_code: str = "BMSUserErrorInvalidInput"
) -> dict[str, str]:
    """`a eq 'x' and b eq 'y'` -> {"a": "x", "b": "y"} (keys lower-cased)."""
    if not text:
        return {}
    terms = re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE)
    parsed = {}
    for term in terms:
        found = FILTER_TERM.fullmatch(term.strip())
        if not found:
            raise ArmError(400, error_code, f"Unsupported $filter term '{term}'.")
        parsed[found.group(1).lower()] = found.group(2)
    return parsed


def list_backup_jobs(ctx: Ctx) -> Reply:
    filters = parse_odata_filter(ctx.query.get("$filter"))
    jobs = ctx.estate.backup_jobs_matching(vault_of(ctx), filters)
    return listing([j.to_arm() for j in jobs])


def get_backup_job(ctx: Ctx) -> Reply:
    ctx.estate.advance_backups(vault_of(ctx))
    return Reply(200, backup_job(ctx, ctx["job"]).to_arm())


# -- Compute ---------------------------------------------------------------------------------


def rpc(ctx: Ctx):
    rpc_id = provider_id(
        ctx["sub"], ctx["rg"], f"Microsoft.Compute/restorePointCollections/{ctx['name']}"
    )
    return ctx.estate.get(
        ctx.estate.restore_point_collections, rpc_id, "Microsoft.Compute/restorePointCollections"
    )


def _observed(ctx: Ctx, collections: list) -> list[dict[str, Any]]:
    for collection in collections:
        ctx.estate.observe_collection(collection)
    return [c.to_arm() for c in collections]


def list_rpcs(ctx: Ctx) -> Reply:
    ctx.estate.require_group(ctx["sub"], ctx["rg"])
    table = ctx.estate.restore_point_collections
    return listing(_observed(ctx, ctx.estate.in_group(table, ctx["sub"], ctx["rg"])))


def list_all_rpcs(ctx: Ctx) -> Reply:
    table = ctx.estate.restore_point_collections
    return listing(_observed(ctx, ctx.estate.in_subscription(table, ctx["sub"])))


def get_rpc(ctx: Ctx) -> Reply:
    expand = ctx.query.get("$expand", "").lower() == "restorepoints"
    with ctx.estate.lock:
        collection = rpc(ctx)
        ctx.estate.observe_collection(collection)
        return Reply(200, collection.to_arm(expand=expand))


def compute_lro(ctx: Ctx, operation) -> Reply:
    path = f"/subscriptions/{ctx['sub']}/providers/Microsoft.Compute/locations/"
    path += f"{operation.location}/operations/{operation.name}"
    return Reply(202, headers=ctx.lro_headers(Location=ctx.url(path)))


def delete_rpc(ctx: Ctx) -> Reply:
    return compute_lro(ctx, ctx.estate.begin_delete_collection(rpc(ctx)))


def compute_operation(ctx: Ctx) -> Reply:
    operation = ctx.estate.poll_operation(ctx["op"])
    if not operation.done:
        return compute_lro(ctx, operation)
    return Reply(200, {"name": operation.name, "status": "Succeeded"})


def vm(ctx: Ctx):
    vm_id = provider_id(ctx["sub"], ctx["rg"], f"Microsoft.Compute/virtualMachines/{ctx['vm']}")
    return ctx.estate.get(ctx.estate.vms, vm_id, "Microsoft.Compute/virtualMachines")


def get_vm(ctx: Ctx) -> Reply:
    with ctx.estate.lock:
        machine = vm(ctx)
        body = machine.to_arm()
        if ctx.query.get("$expand", "").lower() == "instanceview":
            body["properties"]["instanceView"] = machine.instance_view()
    return Reply(200, body)


def instance_view(ctx: Ctx) -> Reply:
    with ctx.estate.lock:
        return Reply(200, vm(ctx).instance_view())


def list_extensions(ctx: Ctx) -> Reply:
    with ctx.estate.lock:
        machine = vm(ctx)
        return listing([machine.extension_arm(e) for e in machine.extensions.values()])


def get_extension(ctx: Ctx) -> Reply:
    with ctx.estate.lock:
        machine = vm(ctx)
        extension = machine.extensions.get(ctx["ext"])
        if extension is None:
            raise not_found("Microsoft.Compute/virtualMachines/extensions", ctx["ext"], ctx["rg"])
        return Reply(200, machine.extension_arm(extension))


def delete_extension(ctx: Ctx) -> Reply:
    return compute_lro(ctx, ctx.estate.begin_delete_extension(vm(ctx), ctx["ext"]))


# -- Network, private DNS, key vault ---------------------------------------------------------


def list_resources(ctx: Ctx) -> Reply:
    """The generic resources list; `$filter` may name a resourceType (case-insensitive)."""
    filters = parse_odata_filter(ctx.query.get("$filter"), "InvalidFilterInQueryString")
    unsupported = set(filters) - {"resourcetype"}
    if unsupported:
        raise ArmError(
            400,
            "InvalidFilterInQueryString",
            f"Unsupported $filter field(s) {sorted(unsupported)}.",
        )
    wanted = filters.get("resourcetype", "").lower()
    found = ctx.estate.generic_resources(ctx["sub"])
    return listing([r for r in found if not wanted or r["type"].lower() == wanted])


def get_private_endpoint(ctx: Ctx) -> Reply:
    endpoint_id = provider_id(
        ctx["sub"], ctx["rg"], f"Microsoft.Network/privateEndpoints/{ctx['name']}"
    )
    table = ctx.estate.private_endpoints
    return Reply(200, ctx.estate.get(table, endpoint_id, "privateEndpoints").to_arm())


def list_private_endpoints(ctx: Ctx) -> Reply:
    table = ctx.estate.private_endpoints
    return listing([e.to_arm() for e in ctx.estate.in_group(table, ctx["sub"], ctx["rg"])])


def list_subscription_private_endpoints(ctx: Ctx) -> Reply:
    table = ctx.estate.private_endpoints
    return listing([e.to_arm() for e in ctx.estate.in_subscription(table, ctx["sub"])])


def list_zones(ctx: Ctx) -> Reply:
    zones = ctx.estate.in_subscription(ctx.estate.dns_zones, ctx["sub"])
    return listing([z.to_arm() for z in zones])


def zone(ctx: Ctx):
    zone_id = provider_id(ctx["sub"], ctx["rg"], f"Microsoft.Network/privateDnsZones/{ctx['zone']}")
    return ctx.estate.get(ctx.estate.dns_zones, zone_id, "Microsoft.Network/privateDnsZones")


def get_zone(ctx: Ctx) -> Reply:
    return Reply(200, zone(ctx).to_arm())


def list_links(ctx: Ctx) -> Reply:
    found = zone(ctx)
    return listing([found.link_arm(link) for link in found.links])


def list_record_sets(ctx: Ctx) -> Reply:
    kind = ctx["rtype"].upper()
    if kind not in {"A", "ALL"}:
        return listing([])
    found = zone(ctx)
    return listing([found.a_record_arm(name) for name in found.a_records])


def get_a_record(ctx: Ctx) -> Reply:
    found = zone(ctx)
    name = next((n for n in found.a_records if n.lower() == ctx["name"].lower()), None)
    if name is None:
        raise not_found("Microsoft.Network/privateDnsZones/A", ctx["name"], ctx["rg"])
    return Reply(200, found.a_record_arm(name))


def get_key_vault(ctx: Ctx) -> Reply:
    vault_id = provider_id(ctx["sub"], ctx["rg"], f"Microsoft.KeyVault/vaults/{ctx['name']}")
    return Reply(200, ctx.estate.get(ctx.estate.key_vaults, vault_id, "vaults").to_arm())


def build_router() -> Router:
    router = Router()
    table: list[tuple[str, str, str, Handler]] = [
        ("resources.groups.list", "GET", SUB + "/resourcegroups", list_groups),
        ("resources.groups.get", "GET", RG, get_group),
        ("resources.list", "GET", SUB + "/resources", list_resources),
        ("locks.list", "GET", LOCKS, list_locks),
        (
            "locks.list",
            "GET",
            SUB + "/providers/Microsoft.Authorization/locks",
            list_subscription_locks,
        ),
        ("asr.items.list", "GET", VAULT + "/replicationMigrationItems", list_items),
        ("asr.items.list", "GET", CONTAINER + "/replicationMigrationItems", list_items),
        ("asr.items.get", "GET", ITEM, get_item),
        ("asr.items.resync", "POST", ITEM + "/resync", resync),
        (
            "asr.items.operation_result",
            "GET",
            ITEM + "/operationresults/{job}",
            item_operation_result,
        ),
        (
            "asr.operation_status",
            "GET",
            VAULT + "/replicationOperationStatus/{job}",
            operation_status,
        ),
        ("asr.jobs.list", "GET", VAULT + "/replicationJobs", list_replication_jobs),
        ("asr.jobs.get", "GET", VAULT + "/replicationJobs/{job}", get_replication_job),
        ("backup.items.list", "GET", VAULT + "/backupProtectedItems", list_protected_items),
        ("backup.items.get", "GET", PROTECTED, get_protected_item),
        ("backup.trigger", "POST", PROTECTED + "/backup", trigger_backup),
        (
            "backup.operation_status",
            "GET",
            PROTECTED + "/operationsStatus/{op}",
            backup_operation_status,
        ),
        (
            "backup.operation_result",
            "GET",
            PROTECTED + "/operationResults/{op}",
            backup_operation_result,
        ),
        ("backup.jobs.list", "GET", VAULT + "/backupJobs", list_backup_jobs),
        ("backup.jobs.get", "GET", VAULT + "/backupJobs/{job}", get_backup_job),
        ("compute.rpc.list", "GET", COMPUTE + "/restorePointCollections", list_rpcs),
        (
            "compute.rpc.list",
            "GET",
            SUB + "/providers/Microsoft.Compute/restorePointCollections",
            list_all_rpcs,
        ),
        ("compute.rpc.get", "GET", COMPUTE + "/restorePointCollections/{name}", get_rpc),
        ("compute.rpc.delete", "DELETE", COMPUTE + "/restorePointCollections/{name}", delete_rpc),
        (
            "compute.operations.get",
            "GET",
            SUB + "/providers/Microsoft.Compute/locations/{loc}/operations/{op}",
            compute_operation,
        ),
        ("compute.vm.get", "GET", VM, get_vm),
        ("compute.vm.instance_view", "GET", VM + "/instanceView", instance_view),
        ("compute.extensions.list", "GET", VM + "/extensions", list_extensions),
        ("compute.extensions.get", "GET", VM + "/extensions/{ext}", get_extension),
        ("compute.extensions.delete", "DELETE", VM + "/extensions/{ext}", delete_extension),
        (
            "network.private_endpoints.list",
            "GET",
            RG + "/providers/Microsoft.Network/privateEndpoints",
            list_private_endpoints,
        ),
        (
            "network.private_endpoints.get",
            "GET",
            RG + "/providers/Microsoft.Network/privateEndpoints/{name}",
            get_private_endpoint,
        ),
        (
            "network.private_endpoints.list",
            "GET",
            SUB + "/providers/Microsoft.Network/privateEndpoints",
            list_subscription_private_endpoints,
        ),
        (
            "dns.zones.list",
            "GET",
            SUB + "/providers/Microsoft.Network/privateDnsZones",
            list_zones,
        ),
        ("dns.zones.get", "GET", ZONE, get_zone),
        ("dns.links.list", "GET", ZONE + "/virtualNetworkLinks", list_links),
        ("dns.records.list", "GET", ZONE + "/{rtype}", list_record_sets),
        ("dns.records.get", "GET", ZONE + "/A/{name}", get_a_record),
        ("keyvault.get", "GET", RG + "/providers/Microsoft.KeyVault/vaults/{name}", get_key_vault),
    ]
    for name, method, template, handler in table:
        router.add(name, method, template, handler)
    for name, method, handler in (
        ("locks.get", "GET", get_lock),
        ("locks.put", "PUT", put_lock),
        ("locks.delete", "DELETE", delete_lock),
    ):
        router.add_pattern(name, method, LOCK_AT_SCOPE, handler)
    return router
