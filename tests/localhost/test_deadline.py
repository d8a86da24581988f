"""The local host's deadline for request bodies, over a raw socket on loopback: a client that
sends its headers and then too little of its body gets 408 and loses its connection."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web

from devtools.localhost.deadline import body_deadline

SECONDS = 0.3


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"received": len(await request.read())})


@contextmanager
def _server() -> Iterator[int]:
    """An aiohttp app with the middleware, as `serve` builds it, on a thread's loop."""
    app = web.Application(middlewares=[body_deadline(SECONDS)])
    app.router.add_post("/api/alerts", _echo)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def _exchange(port: int, head: bytes, body: bytes) -> tuple[bytes, float]:
    """Send `head` and `body`, then read until the server closes; (answer, seconds taken)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        started = time.monotonic()
        conn.sendall(head + body)
        answer = b""
        while chunk := conn.recv(65536):  # b"" once the server closed the connection
            answer += chunk
        return answer, time.monotonic() - started


def _head(length: int | None, *, chunked: bool = False, close: bool = False) -> bytes:
    """Request headers; without `close` the client would keep the connection alive."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    connection = "Connection: close\r\n" if close else ""
    return (
        f"POST /api/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{connection}{framing}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("head", "body"),
    [
        (_head(1000), b'{"schemaId": "azureMonitor'),  # half a body, then silence
        (_head(1000), b""),  # headers only
        (_head(None, chunked=True), b"10\r\n0123456789abcdef\r\n"),  # no last chunk
    ],
)
def test_a_body_that_stops_arriving_gets_408_and_the_connection_closed(head, body):
    with _server() as port:
        answer, seconds = _exchange(port, head, body)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"did not arrive within 0.3 s" in answer
    assert SECONDS <= seconds < SECONDS + 3, "answered at the deadline, and the socket freed"


def test_a_body_sent_in_time_reaches_the_handler_and_others_are_served_meanwhile():
    with _server() as port, socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        slow.sendall(_head(20) + b"0123456789")  # half now, half before the deadline
        fast, _ = _exchange(port, _head(2, close=True), b"{}")  # not held up by the slow one
        time.sleep(SECONDS / 3)
        slow.sendall(b"0123456789")
        answer = slow.recv(65536)
    assert fast.startswith(b"HTTP/1.1 200 ") and b'"received": 2' in fast
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"received": 20' in answer
