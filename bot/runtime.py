"""The async bot adapter on one dedicated event-loop thread, reachable from sync and async code.

The engine is synchronous (timers, queue workers, HTTP webhooks call it) and the adapter is
async with aiohttp sessions bound to one loop. Everything the adapter does therefore runs on
this loop: the engine submits proactive posts with a timeout (`call`), and the HTTP trigger
hands inbound activities over from its own loop (`process`). Turn handlers run the sync
engine with `asyncio.to_thread`, so this loop stays free to serve the posts they cause.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.endpoint import BotEndpoint
from bot.model import Handler, HttpResult

log = logging.getLogger(__name__)
T = TypeVar("T")


class BotRuntime:
    """Owns the adapter and the loop thread it lives on (started lazily, once)."""

    def __init__(self, adapter_factory: Callable[[], BotEndpoint], timeout: float = 30.0):
        self._factory = adapter_factory
        self.timeout = timeout
        self._adapter: BotEndpoint | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def adapter(self) -> BotEndpoint:
        self._start()
        assert self._adapter is not None
        return self._adapter

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="teams-bot-loop", daemon=True
                )
                thread.start()
                self._adapter = self._factory()
                self._loop, self._thread = loop, thread
            return self._loop

    def call(self, work: Callable[[BotEndpoint], Awaitable[T]]) -> T:
        """Run `work(adapter)` on the bot loop and wait for it (sync callers only).

        Raises TimeoutError after `timeout` seconds (the coroutine is cancelled).
        """
        loop = self._start()
        if _running_loop() is loop:
            raise RuntimeError("BotRuntime.call would deadlock: use asyncio.to_thread")
        future = asyncio.run_coroutine_threadsafe(_awaited(work(self.adapter)), loop)
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise

    async def process(self, body: bytes, auth_header: str | None, handler: Handler) -> HttpResult:
        """Process one inbound activity on the bot loop, awaited from any other loop."""
        loop = self._start()
        work = self.adapter.process(body, auth_header, handler)
        if _running_loop() is loop:
            return await work
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    def close(self) -> None:
        with self._lock:
            loop, thread, adapter = self._loop, self._thread, self._adapter
            self._loop = self._thread = self._adapter = None
        if loop is None or thread is None:
            return
        if adapter is not None:
            asyncio.run_coroutine_threadsafe(adapter.close(), loop).result(self.timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(self.timeout)
        loop.close()


async def _awaited(work: Awaitable[T]) -> T:
    return await work


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
