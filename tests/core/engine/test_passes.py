"""Engine passes under load: slow downloads, retention backlogs and derived media files."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.domain.catalog import Region
from core.domain.errors import Kind, ProviderError
from core.domain.jobs import JobStatus
from core.engine.config import EngineConfig
from core.media.pool import MediaPool
from core.ports import JobStore
from storage.sqlite import SqliteJobStore
from tests.core.fakes import (
    FakeClock,
    FakeVideoProvider,
    RecordingPort,
    noisy_mp4,
    png,
    write_file,
)
from tests.core.rig import CHAT, SPEC, Rig, open_rig, run_until

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
#: a guard against a hanging pass, never a synchronisation point
GUARD = 10.0


@dataclass
class GatedDownloads(FakeVideoProvider):
    """Downloads wait until the test opens the gate (a large video on a slow link)."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        self.calls.append("download")
        await self.gate.wait()
        if self.download_errors:
            raise self.download_errors.popleft()
        write_file(dest, self.video)
        return len(self.video)


async def test_a_slow_download_does_not_hold_up_the_pass_nor_start_twice(
    tmp_path: Path, store: JobStore, clock: FakeClock, port: RecordingPort
) -> None:
    provider = GatedDownloads(clock=clock)
    async with MediaPool(max_workers=1) as pool:
        service = await open_rig(
            tmp_path,
            provider=provider,
            store=store,
            clock=clock,
            media_dir=tmp_path / "media",
            region=Region.BEIJING,
            config=EngineConfig(download_wait=0.0),
            media=pool,
        )
        view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        for _ in range(400):
            await asyncio.wait_for(service.poll_once(), GUARD)
            if provider.count("download"):
                break
            clock.advance(1)
        assert provider.count("download") == 1
        # more passes while the download is still running: the engine keeps working
        other = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        clock.advance(1)
        await asyncio.wait_for(service.poll_once(), GUARD)
        assert provider.count("create") == 2
        assert provider.count("download") == 1  # never two downloads of one job
        job = await service.get(view.id)
        assert job is not None and job.status is JobStatus.SUCCEEDED
        provider.gate.set()
        await asyncio.wait_for(service.drain(), GUARD)
        job = await service.get(view.id)
        assert job is not None and job.status is JobStatus.DOWNLOADED
        await run_until(service, clock, port, FINAL, [view.id, other.id])
        await service.drain()


async def test_retention_keeps_up_with_more_than_one_batch_per_period(
    tmp_path: Path,
    store: JobStore,
    clock: FakeClock,
    provider: FakeVideoProvider,
    port: RecordingPort,
) -> None:
    async with MediaPool(max_workers=1) as pool:
        service = await open_rig(
            tmp_path,
            provider=provider,
            store=store,
            clock=clock,
            media_dir=tmp_path / "media",
            region=Region.BEIJING,
            config=EngineConfig(batch=2, retention_every=3600.0, media_retention_days=1.0),
            media=pool,
        )
        ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(5)]
        await run_until(service, clock, port, FINAL, ids)
        clock.advance(2 * 86400)
        purged = 0
        for _ in range(5):  # five passes a few seconds apart, well inside one period
            purged += (await service.poll_once()).purged
            clock.advance(5)
        assert purged == 5
        for i in ids:
            job = await store.get_job(i)
            assert job is not None and job.media_purged


async def test_retention_also_deletes_the_fitted_copies_of_a_video(
    service: Rig,
    clock: FakeClock,
    store: JobStore,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    # the engine makes the fitted copy itself when the port's limit is below the video's size
    provider.video = noisy_mp4()
    port.limit = len(provider.video) // 2
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    job = await store.get_job(view.id)
    assert job is not None and job.fit_path is not None
    fitted = Path(job.fit_path)
    assert _exists(fitted) and port.results[0].video_path == str(fitted)
    clock.advance(8 * 86400)
    assert (await service.poll_once()).purged == 1
    assert not _exists(fitted)
    assert _listing(fitted.parent) == []


async def test_a_download_outliving_the_pass_is_delivered_after_a_status_edit(
    tmp_path: Path, store: JobStore, clock: FakeClock, port: RecordingPort
) -> None:
    """Issue 8.1: the download finishes with a copy of the row taken before the delivery pass
    edited the status message; its write must not be lost (no restart needed)."""
    provider = GatedDownloads(clock=clock)
    async with MediaPool(max_workers=1) as pool:
        service = await open_rig(
            tmp_path,
            provider=provider,
            store=store,
            clock=clock,
            media_dir=tmp_path / "media",
            region=Region.BEIJING,
            config=EngineConfig(download_wait=0.0, progress_interval=0.0),
            media=pool,
        )
        view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        for _ in range(400):
            await asyncio.wait_for(service.poll_once(), GUARD)
            await service.deliver_once(port)
            if provider.count("download"):
                break
            clock.advance(1)
        assert provider.count("download") == 1
        # the delivery pass shows "fetching the video" while the download is still running
        clock.advance(1)
        await service.deliver_once(port)
        assert (view.id, JobStatus.SUCCEEDED.value) in port.progress
        provider.gate.set()
        await asyncio.wait_for(service.drain(), GUARD)
        for _ in range(5):  # a few ordinary passes, no restart
            clock.advance(1)
            await asyncio.wait_for(service.poll_once(), GUARD)
            await service.deliver_once(port)
        job = await service.get(view.id)
        assert job is not None and job.status is JobStatus.DELIVERED
        assert [r.id for r in port.results] == [view.id]  # posted once


async def test_a_download_failing_for_good_after_a_status_edit_is_still_reported(
    tmp_path: Path, store: JobStore, clock: FakeClock, port: RecordingPort
) -> None:
    provider = GatedDownloads(clock=clock)
    async with MediaPool(max_workers=1) as pool:
        service = await open_rig(
            tmp_path,
            provider=provider,
            store=store,
            clock=clock,
            media_dir=tmp_path / "media",
            region=Region.BEIJING,
            config=EngineConfig(download_wait=0.0, progress_interval=0.0),
            media=pool,
        )
        provider.download_errors.append(
            ProviderError("too big", kind=Kind.DOWNLOAD, retryable=False)
        )
        view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        for _ in range(400):
            await asyncio.wait_for(service.poll_once(), GUARD)
            await service.deliver_once(port)
            if provider.count("download"):
                break
            clock.advance(1)
        clock.advance(1)
        await service.deliver_once(port)
        provider.gate.set()
        await asyncio.wait_for(service.drain(), GUARD)
        for _ in range(5):
            clock.advance(1)
            await asyncio.wait_for(service.poll_once(), GUARD)
            await service.deliver_once(port)
        job = await service.get(view.id)
        assert job is not None and job.status is JobStatus.DELIVERED
        assert [f.id for f in port.failures] == [view.id]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # PostgreSQL: tests/storage
async def test_the_create_marker_is_written_durably_before_the_create(
    service: Rig, store: SqliteJobStore, provider: FakeVideoProvider
) -> None:
    """Issue 8.13: SUBMITTING must survive a power cut, or the job could be created (and
    billed) twice; its commit runs under synchronous=FULL, before the create is sent."""
    await service.submit(spec=SPEC, image=png(), chat=CHAT)
    trace: list[str] = []
    calls_at_marker: list[int] = []

    def is_marker(statement: str) -> bool:
        return statement.startswith("UPDATE jobs SET status = 'submitting'")

    def seen(statement: str) -> None:
        trace.append(statement)
        if is_marker(statement):
            calls_at_marker.append(provider.count("create"))

    await store.connection.set_trace_callback(seen)
    await service.poll_once()
    await store.connection.set_trace_callback(lambda _: None)
    marker = next(i for i, s in enumerate(trace) if is_marker(s))
    modes = [s for s in trace[:marker] if s.startswith("PRAGMA synchronous")]
    assert modes[-1:] == ["PRAGMA synchronous = FULL"]
    assert calls_at_marker == [0] and provider.count("create") == 1


def _exists(path: Path) -> bool:
    return path.exists()


def _listing(folder: Path) -> list[Path]:
    return list(folder.iterdir())
