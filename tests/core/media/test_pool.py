"""MediaPool: work runs off the event loop, at most ``max_workers`` at once, errors come back."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.domain.catalog import find_model
from core.domain.errors import ValidationError
from core.media import MediaPool, normalise_image
from tests.core.media import corpus


async def test_work_runs_off_the_loop() -> None:
    gate = threading.Event()
    async with MediaPool(max_workers=1) as pool:
        # If run() blocked the loop, nothing could set the gate and wait() would time out.
        job = asyncio.create_task(pool.run(gate.wait, 10))
        await asyncio.to_thread(lambda: None)  # let the job reach its worker
        gate.set()
        assert await job is True


async def test_concurrency_is_capped() -> None:
    lock = threading.Lock()
    running = 0
    seen = 0
    pairs = threading.Barrier(2, timeout=10)  # passes only when two jobs run at the same time

    def job(i: int) -> int:
        nonlocal running, seen
        with lock:
            running += 1
            seen = max(seen, running)
        try:
            pairs.wait()
            return i * i
        finally:
            with lock:
                running -= 1

    async with MediaPool(max_workers=2) as pool:
        results = await asyncio.gather(*(pool.run(job, i) for i in range(8)))
        assert results == [i * i for i in range(8)]
        assert seen == 2  # two in parallel (the barrier proves it), never a third
        assert pool.peak == 2 and pool.active == 0


async def test_errors_propagate_with_their_message() -> None:
    model = find_model("wan2.6-i2v-flash")
    assert model is not None
    async with MediaPool() as pool:
        with pytest.raises(ValidationError, match="empty"):
            await pool.run(normalise_image, b"", model)
        ok = await pool.run(normalise_image, corpus.save(corpus.photo(400, 400), "PNG"), model)
        assert ok.width == 400


async def test_closed_pool_refuses_work() -> None:
    pool = MediaPool(max_workers=1)
    await pool.aclose()
    await pool.aclose()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await pool.run(int, "1")
    with pytest.raises(ValueError, match="at least 1"):
        MediaPool(max_workers=0)
