"""Azure Functions entry point (Python v2 programming model): one blueprint per source.

Kept light on purpose: the blueprints import only azure.functions at module level; the core
and the Azure SDKs load on the first invocation.
"""

import azure.functions as func

from functions import alerts, bot, eventgrid, poller, remediation_queue

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (alerts.bp, eventgrid.bp, poller.bp, remediation_queue.bp, bot.bp):
    app.register_functions(blueprint)
