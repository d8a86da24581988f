"""The one Microsoft Graph call the app makes: a user's checkMemberGroups, from the estate.

Graph errors share ARM's `{"error": {"code", "message"}}` envelope, so ArmError carries them.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from devtools.simulator.errors import ArmError
from devtools.simulator.estate import Estate
from devtools.simulator.routes import Reply

GRAPH_MEMBER_GROUPS = "/v1.0/users/{user}/checkMemberGroups"
GRAPH_ROUTE = "graph.users.checkMemberGroups"
MAX_GROUP_IDS = 20
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _bad_request(message: str) -> ArmError:
    return ArmError(400, "Request_BadRequest", message)


async def check_member_groups(estate: Estate, request: web.Request) -> Reply:
    user = request.match_info["user"]
    if not _GUID.fullmatch(user):
        raise ArmError(404, "Request_ResourceNotFound", f"Resource '{user[:60]}' does not exist.")
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise _bad_request(f"Body is not JSON: {exc}") from exc
    group_ids = body.get("groupIds") if isinstance(body, dict) else None
    if not isinstance(group_ids, list) or not all(isinstance(g, str) for g in group_ids):
        raise _bad_request("groupIds must be a list of group ids.")
    if not 0 < len(group_ids) <= MAX_GROUP_IDS:
        raise _bad_request(f"groupIds must hold 1 to {MAX_GROUP_IDS} ids.")
    if not all(_GUID.fullmatch(g) for g in group_ids):
        raise _bad_request("Invalid object identifier in groupIds.")
    context = f"{request.scheme}://{request.host}/v1.0/$metadata#Collection(Edm.String)"
    return Reply(200, {"@odata.context": context, "value": estate.member_groups(user, group_ids)})
