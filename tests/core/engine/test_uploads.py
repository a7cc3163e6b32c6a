"""The uploads (audio, and clips to continue) as their own background step before the create
(issues 8.5 and 14)."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from core.domain.catalog import Model, Region
from core.domain.errors import Kind, ProviderError
from core.domain.jobs import JobStatus
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest
from core.engine.config import EngineConfig
from core.media.pool import MediaPool
from core.ports import JobStore
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png, tone_wav
from tests.core.rig import CHAT, SPEC, Rig, open_rig, run_until
from tests.emulator.helpers import clip_bytes

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
#: a guard against a hanging pass, never a synchronisation point
GUARD = 10.0
AUDIO_SPEC = dataclasses.replace(SPEC, model="wan2.6-i2v-flash", resolution="720P", duration=5)


@dataclass
class GatedUploads(FakeVideoProvider):
    """Uploading audio takes until the test opens the gate (a 60 s upload). Code that uploads
    inside the create is held up just the same: its create waits for the gate."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        await self.gate.wait()
        return await super().upload_file(model, media)

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        if request.audio is not None:
            await self.gate.wait()
        return await super().create_task(request)


async def make_service(
    provider: FakeVideoProvider,
    store: JobStore,
    clock: FakeClock,
    tmp_path: Path,
    pool: MediaPool,
    **config: object,
) -> Rig:
    return await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        media_dir=tmp_path / "media",
        region=Region.BEIJING,
        config=EngineConfig(download_wait=0.0, **config),  # type: ignore[arg-type]  # test knobs
        media=pool,
    )


async def test_a_slow_audio_upload_does_not_delay_another_jobs_poll_or_delivery(
    tmp_path: Path, store: JobStore, clock: FakeClock, port: RecordingPort
) -> None:
    provider = GatedUploads(clock=clock)
    async with MediaPool(max_workers=1) as pool:
        service = await make_service(provider, store, clock, tmp_path, pool)
        slow = await service.submit(spec=AUDIO_SPEC, image=png(), chat=CHAT, audio=tone_wav())
        other = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        for _ in range(400):  # every pass returns at once although the upload hangs
            await asyncio.wait_for(service.poll_once(), GUARD)
            await asyncio.wait_for(service.deliver_once(port), GUARD)
            if [r.id for r in port.results] == [other.id]:
                break
            clock.advance(1)
        assert [r.id for r in port.results] == [other.id]
        assert provider.count("get") + provider.count("list") > 0  # it was polled meanwhile
        waiting = await store.get_job(slow.id)
        assert waiting is not None and waiting.status is JobStatus.QUEUED
        assert waiting.audio_url is None and provider.count("create") == 1
        provider.gate.set()
        await run_until(service, clock, port, FINAL, [slow.id])
        assert sorted(r.id for r in port.results) == sorted([slow.id, other.id])
        await service.aclose()


async def test_the_create_sends_the_stored_oss_url_and_the_row_keeps_its_expiry(
    tmp_path: Path,
    store: JobStore,
    clock: FakeClock,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    async with MediaPool(max_workers=1) as pool:
        service = await make_service(provider, store, clock, tmp_path, pool)
        view = await service.submit(spec=AUDIO_SPEC, image=png(), chat=CHAT, audio=tone_wav())
        started = clock.now()
        await service.poll_once()
        await service.drain()
        record = await store.get_job(view.id)
        assert record is not None and record.audio_url is not None
        assert record.audio_url.startswith("oss://")
        assert record.audio_url_expires_at == started + timedelta(hours=48)
        model, data = provider.uploads[record.audio_url]
        assert record.audio_path is not None
        assert model == AUDIO_SPEC.model and data == _read(record.audio_path)
        await run_until(service, clock, port, FINAL, [view.id])
        (task,) = provider.tasks.values()
        assert task.request is not None and task.request.audio is None
        assert task.request.audio_url == record.audio_url
        assert provider.count("upload") == 1


async def test_an_upload_about_to_expire_is_made_again_before_the_create(
    tmp_path: Path,
    store: JobStore,
    clock: FakeClock,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    async with MediaPool(max_workers=1) as pool:
        service = await make_service(
            provider, store, clock, tmp_path, pool, concurrency={"wan2.6-i2v-flash": 1}
        )
        first = await service.submit(spec=AUDIO_SPEC, image=png(), chat=CHAT, audio=tone_wav())
        provider.run_seconds = 48 * 3600.0  # holds the only slot for two days
        await service.poll_once()
        await service.drain()
        second = await service.submit(spec=AUDIO_SPEC, image=png(), chat=CHAT, audio=tone_wav())
        await service.poll_once()
        await service.drain()
        early = await store.get_job(second.id)
        assert early is not None and early.audio_url is not None
        assert provider.count("upload") == 2
        clock.advance(47.5 * 3600)  # the second job's file now expires within the margin
        provider.run_seconds = 60.0
        await run_until(service, clock, port, FINAL, [first.id, second.id], step=600)
        done = await store.get_job(second.id)
        assert done is not None and done.audio_url != early.audio_url
        assert provider.count("upload") == 3  # uploaded again, once
        task = provider.tasks[done.task_id or ""]
        assert task.request is not None and task.request.audio_url == done.audio_url


async def test_a_refused_upload_fails_the_job_with_its_message_and_creates_nothing(
    tmp_path: Path,
    store: JobStore,
    clock: FakeClock,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    provider.upload_errors.append(
        ProviderError("Uploading the audio file to DashScope failed; try again.", kind=Kind.BUSY,
                      retryable=True, status=503)
    )  # fmt: skip
    provider.upload_errors.append(
        ProviderError("The audio file was refused.", kind=Kind.INVALID_INPUT, retryable=False)
    )
    async with MediaPool(max_workers=1) as pool:
        service = await make_service(provider, store, clock, tmp_path, pool)
        view = await service.submit(spec=AUDIO_SPEC, image=png(), chat=CHAT, audio=tone_wav())
        await run_until(service, clock, port, FINAL, [view.id])
        await service.drain()
    assert provider.count("upload") == 2 and provider.count("create") == 0
    assert [f.error_message for f in port.failures] == ["The audio file was refused."]


CLIP_SPEC = dataclasses.replace(SPEC, model="wan2.7-i2v", resolution="720P", duration=7)


async def test_a_clip_is_uploaded_then_named_by_the_create_even_across_a_restart(
    tmp_path: Path,
    store: JobStore,
    clock: FakeClock,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    """Issue 14: the clip reaches the temporary storage first; a restart after the upload
    creates with the stored URL (no second upload); the end image travels with the create."""
    async with MediaPool(max_workers=1) as pool:
        # no slot for the model: the upload runs, the create waits
        first = await make_service(
            provider, store, clock, tmp_path, pool, concurrency={"wan2.7-i2v": 0}
        )
        view = await first.submit(spec=CLIP_SPEC, clip=clip_bytes(3.0), last_frame=png(), chat=CHAT)
        assert view.clip_seconds == pytest.approx(3.0, abs=0.05)
        assert view.cost_estimate == pytest.approx(7 * 0.6)  # the whole output is billed
        await first.poll_once()
        await first.drain()
        uploaded = await store.get_job(view.id)
        assert uploaded is not None and uploaded.clip_url is not None
        assert uploaded.status is JobStatus.QUEUED and provider.count("create") == 0
        assert provider.count("upload") == 1 and provider.uploads[uploaded.clip_url][0] == (
            "wan2.7-i2v"
        )
        await first.aclose()  # the process stops between the upload and the create
        again = await make_service(provider, store, clock, tmp_path, pool)
        await again.recover()
        await run_until(again, clock, port, FINAL, [view.id])
        await again.aclose()
    done = await store.get_job(view.id)
    assert done is not None and done.status is JobStatus.DELIVERED
    assert provider.count("upload") == 1  # the stored URL was still fresh
    task = provider.tasks[done.task_id or ""]
    assert task.request is not None and task.request.clip_url == uploaded.clip_url
    assert task.request.image is None and task.request.last_frame is not None
    assert task.request.duration == 7


async def test_regenerating_a_continuation_copies_the_clip_and_the_end_image(
    tmp_path: Path,
    store: JobStore,
    clock: FakeClock,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    async with MediaPool(max_workers=1) as pool:
        service = await make_service(provider, store, clock, tmp_path, pool)
        view = await service.submit(
            spec=CLIP_SPEC, clip=clip_bytes(3.0), last_frame=png(), chat=CHAT
        )
        await run_until(service, clock, port, FINAL, [view.id])
        child = await service.regenerate(view.id, user=CHAT.user, chat=CHAT)
        await run_until(service, clock, port, FINAL, [child.id])
        await service.aclose()
    parent, copy = await store.get_job(view.id), await store.get_job(child.id)
    assert parent is not None and copy is not None
    assert copy.clip_path not in (None, parent.clip_path)
    assert copy.last_frame_path not in (None, parent.last_frame_path)
    assert _read(copy.clip_path or "") == _read(parent.clip_path or "")
    assert (copy.clip_seconds, copy.unit_price) == (parent.clip_seconds, 0.6)
    assert copy.clip_url != parent.clip_url  # its own upload
    assert copy.status is JobStatus.DELIVERED and copy.image_path is None


def _read(path: str) -> bytes:
    return Path(path).read_bytes()
