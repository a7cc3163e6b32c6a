"""Result download benchmark: ``python -m bench.bench_download [--mb 200]`` (a few seconds).

The provider streams a result video to disk in 256 KiB chunks. This measures the Python heap
peak (``tracemalloc``) and wall time of ``DashScopeClient.download`` against the naive
baseline measured in the same run — ``await resp.read()`` then one ``write_bytes`` — for the
same body from a loopback aiohttp server. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from providers import DashScopeClient

MIB = 1024 * 1024


HEAD = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20
CHUNK = b"v" * MIB


async def _measure(fn: Callable[[], Awaitable[int]]) -> tuple[float, float, int]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    size = await fn()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / MIB, size


async def main(mb: int) -> None:
    total = len(HEAD) + mb * MIB

    async def handler(request: web.Request) -> web.StreamResponse:
        # streamed with drain, so the (same-process) server never holds the body in memory
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        resp.content_length = total
        await resp.prepare(request)
        await resp.write(HEAD)
        for _ in range(mb):
            await resp.write(CHUNK)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/r.mp4", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}/r.mp4"
    try:
        async with aiohttp.ClientSession() as session:
            client = DashScopeClient(
                session, api_key="sk-bench-key", base_url=f"http://127.0.0.1:{port}/api/v1"
            )
            with tempfile.TemporaryDirectory() as tmp:
                dest = Path(tmp) / "stream.mp4"
                naive_dest = Path(tmp) / "naive.mp4"

                async def naive() -> int:
                    async with session.get(url) as resp:
                        data = await resp.read()
                    await asyncio.to_thread(naive_dest.write_bytes, data)
                    return len(data)

                async def streamed() -> int:
                    return await client.download(url, dest, max_bytes=(mb + 1) * MIB)

                base_t, base_mb, base_size = await _measure(naive)
                ours_t, ours_mb, ours_size = await _measure(streamed)
    finally:
        await runner.cleanup()
    assert base_size == ours_size == total  # noqa: S101 - the bench checks its own work
    print(f"body: {mb} MiB over loopback")
    print(f"naive read+write : {base_t:6.2f} s, Python heap peak {base_mb:8.1f} MiB")
    print(f"streamed download: {ours_t:6.2f} s, Python heap peak {ours_mb:8.1f} MiB")
    print(f"memory ratio naive/streamed: {base_mb / max(ours_mb, 0.01):.0f}x; "
          f"time ratio streamed/naive: {ours_t / base_t:.2f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="body size in MiB")
    asyncio.run(main(parser.parse_args().mb))
