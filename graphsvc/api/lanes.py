"""Writes go first: a worker runs at most ``GRAPHSVC_READ_CONCURRENCY`` reads at once, and
never holds a write back.

On a busy server every request in flight shares the same cores and the same interpreter, so
a member recording a visit on a phone waits as long as the slowest county-wide list being
read beside it. A read held here, before it starts, takes no processor time: the writes in
flight (and the reads let through) get it instead. The reads held are let through in the
order they came. ``/health`` and ``/ready`` are never held, so a load balancer sees a
busy worker as up.

A plain ASGI middleware: a read is a GET or HEAD request, everything else is a write. The
gate is per worker process and per event loop; ``0`` lets every read through at once.
"""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Receive, Scope, Send

READ_METHODS = frozenset({"GET", "HEAD"})
NEVER_HELD = ("/health", "/ready")


class ReadGate:
    """Hold reads beyond ``limit`` running at once until one of them is answered."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
            weakref.WeakKeyDictionary()

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.limit)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.limit <= 0 or scope["type"] != "http" or scope["method"] not in READ_METHODS
                or scope["path"].startswith(NEVER_HELD)):
            await self.app(scope, receive, send)
            return
        async with self._gate():
            await self.app(scope, receive, send)
