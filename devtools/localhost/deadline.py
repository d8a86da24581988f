"""A deadline for request bodies: a client that sends its headers and then trickles (or never
sends) the body would otherwise hold its connection, and a handler, for as long as it likes.

aiohttp closes a connection that never completes its headers after the keep-alive timeout, but
once a request has started it waits for the body without limit. This middleware reads the
whole body first, within BODY_SECONDS; a late body gets 408 and its connection is closed.
Handlers then read the body aiohttp kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("devtools.localhost")

BODY_SECONDS = 10.0  # action groups, Event Grid and the bot send bodies of a few KB at once

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_deadline(seconds: float = BODY_SECONDS) -> Callable[[web.Request, Handler], Awaitable]:
    """The middleware: 408 for a body not received within `seconds` of the handler's start."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                log.warning("%s %s: body not received within %g s; 408 and connection closed",
                            request.method, request.path, seconds)  # fmt: skip
                return await _timed_out(request, seconds)
        return await handler(request)

    return middleware


async def _timed_out(request: web.Request, seconds: float) -> web.StreamResponse:
    """Send the 408 and close the connection now: aiohttp would otherwise linger up to ten
    seconds reading the rest of a body that is not coming."""
    reason = f"the request body did not arrive within {seconds:g} s"
    response = web.json_response({"error": "RequestTimeout", "reason": reason}, status=408)
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response
