"""Fitting the video under the port's upload limit: off the pass, once, the link as fallback
(issues 8.3 and 8.5)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pytest

from core.domain.jobs import JobStatus
from core.engine.config import EngineConfig
from core.media.pool import MediaPool
from core.media.video import fit_video
from core.ports import JobStore
from tests.core.fakes import (
    FakeClock,
    FakeVideoProvider,
    RecordingPort,
    decoded_codec,
    noisy_mp4,
    png,
)
from tests.core.rig import CHAT, SPEC, Rig, open_rig, run_until

P = ParamSpec("P")
T = TypeVar("T")

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
#: a guard against a hanging pass, never a synchronisation point
GUARD = 10.0


class CountingPool(MediaPool):
    """The real media pool, counting the re-encodes the engine starts in it."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self.fits = 0

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if fn is fit_video:
            self.fits += 1
        return await super().run(fn, *args, **kwargs)


class CountingFits(Rig):
    @property
    def fits(self) -> int:
        media = self.rt.media
        assert isinstance(media, CountingPool)
        return media.fits


async def counting(tmp_path: Path, pool: CountingPool, **kw: Any) -> CountingFits:
    rig = await open_rig(tmp_path, media=pool, **kw)
    return CountingFits(rig.rt, rig._stack)


@pytest.fixture
async def fits(
    tmp_path: Path, store: JobStore, clock: FakeClock, provider: FakeVideoProvider
) -> AsyncIterator[CountingFits]:
    pool = CountingPool(max_workers=1)
    async with pool:
        rig = await counting(
            tmp_path, pool, provider=provider, store=store, clock=clock,
            config=EngineConfig(fit_wait=GUARD),
        )  # fmt: skip
        yield rig
        await rig.aclose()


async def test_a_video_that_cannot_be_re_encoded_goes_out_as_the_link_with_its_expiry(
    fits: CountingFits, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    """Issue 8.3: a VideoError from fitting used to retry 10 times and end DELIVERY_FAILED
    without a word, though the 24 h link still worked."""
    provider.video = b"not an mp4 " * 40_000  # what a fit cannot read (VideoError)
    port.limit = 100_000
    view = await fits.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(fits, clock, port, FINAL, [view.id])
    done = await fits.get_view(view.id)
    assert done.status is JobStatus.DELIVERED and port.failures == []
    (posted,) = port.results
    assert posted.video_path is None  # no file: the port posts the link
    assert posted.video_url is not None and posted.video_url_expires_at is not None
    assert fits.fits == 1
    record = await fits.store.get_job(view.id)
    assert record is not None and record.fit_limit == 100_000 and record.fit_path is None


async def test_a_re_encode_cut_short_by_a_crash_is_not_started_again(
    fits: CountingFits,
    clock: FakeClock,
    provider: FakeVideoProvider,
    port: RecordingPort,
    store: JobStore,
) -> None:
    provider.video = noisy_mp4()
    view = await fits.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(fits, clock, port, {JobStatus.DOWNLOADED}, [view.id], deliver=False)
    job = await store.get_job(view.id)
    assert job is not None
    # what the row says when the process died during the re-encode: the attempt is recorded
    limit = len(provider.video) // 2
    assert await store.save(job, dataclasses.replace(job, fit_limit=limit))
    port.limit = limit
    await fits.recover()
    await run_until(fits, clock, port, FINAL, [view.id])
    assert fits.fits == 0
    assert [r.video_path for r in port.results] == [None]


async def test_a_slow_re_encode_does_not_hold_up_other_deliveries(
    tmp_path: Path, store: JobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    provider.video = noisy_mp4()
    pool = CountingPool(max_workers=1)
    async with pool:
        service = await counting(
            tmp_path, pool, provider=provider, store=store, clock=clock,
            config=EngineConfig(fit_wait=0.0),
        )  # fmt: skip
        big = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        small = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        port = RecordingPort(limits={big.id: len(provider.video) // 2})
        await run_until(
            service, clock, port, {JobStatus.DOWNLOADED}, [big.id, small.id], deliver=False
        )
        # the only media worker is busy (another re-encode): this one waits its turn
        release = threading.Event()
        blocker = asyncio.ensure_future(pool.run(release.wait, GUARD))
        for _ in range(3):
            await asyncio.wait_for(service.deliver_once(port), GUARD)
            clock.advance(1)
        assert [r.id for r in port.results] == [small.id]
        assert service.fits == 1
        release.set()
        await blocker
        await service.drain()
        await run_until(service, clock, port, FINAL, [big.id])
        assert [r.id for r in port.results] == [small.id, big.id]
        posted = port.results[1].video_path
        assert posted is not None and _size(posted) <= len(provider.video) // 2
        assert decoded_codec(posted) == "h264" and service.fits == 1
        await service.aclose()


def _size(path: str) -> int:
    return Path(path).stat().st_size
