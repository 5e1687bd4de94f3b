"""Writes go first: reads beyond the limit wait their turn, writes and /health never wait."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from graphsvc.api.lanes import ReadGate


def _app(limit: int) -> tuple[ReadGate, asyncio.Event, list[str]]:
    """Reads under /slow wait for ``release``; every request notes when it starts."""
    release = asyncio.Event()
    started: list[str] = []

    async def slow(request: Request) -> PlainTextResponse:
        started.append(f"{request.method} {request.url.path}")
        await release.wait()
        return PlainTextResponse("read")

    async def fast(request: Request) -> PlainTextResponse:
        started.append(f"{request.method} {request.url.path}")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/slow/{n}", slow), Route("/write", fast, methods=["POST"]),
                            Route("/health", fast), Route("/read", fast)])
    return ReadGate(app, limit), release, started


async def _run(limit: int) -> tuple[list[str], list[str], list[str]]:
    gate, release, started = _app(limit)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate),
                                 base_url="http://test") as client:
        reads = [asyncio.create_task(client.get(f"/slow/{n}")) for n in range(3)]
        while len(started) < min(limit or 3, 3):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # give a read beyond the limit every chance to start
        while_held = list(started)
        answers = [await client.post("/write"), await client.get("/health")]
        assert [a.status_code for a in answers] == [200, 200]
        late_read = asyncio.create_task(client.get("/read"))
        await asyncio.sleep(0.05)
        before_release = list(started)
        release.set()
        done = await asyncio.gather(*reads, late_read)
        assert [r.status_code for r in done] == [200] * 4
        return while_held, before_release, list(started)


def test_reads_beyond_the_limit_wait_and_writes_do_not() -> None:
    while_held, before_release, after = asyncio.run(_run(1))
    assert while_held == ["GET /slow/0"]  # the second and third read wait their turn
    # the write and /health ran while the reads were held; the new read queued behind them
    assert before_release == ["GET /slow/0", "POST /write", "GET /health"]
    assert sorted(after[3:]) == ["GET /read", "GET /slow/1", "GET /slow/2"]
    assert after[3:5] == ["GET /slow/1", "GET /slow/2"]  # in the order they came


def test_no_limit_lets_every_read_through() -> None:
    while_held, before_release, _ = asyncio.run(_run(0))
    assert sorted(while_held) == ["GET /slow/0", "GET /slow/1", "GET /slow/2"]
    assert before_release[3:] == ["POST /write", "GET /health", "GET /read"]
