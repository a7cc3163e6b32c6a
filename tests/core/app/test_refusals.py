"""Refusals before anything is recorded or spent: validation (issue 8.14) and the per-user cap
on unfinished jobs with a bounded intake (issue 8.4)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from core.domain.catalog import Region
from core.domain.errors import AnimateError, Input, ValidationError
from core.domain.jobs import ChatRef, JobStatus
from core.domain.quota import Limits
from core.domain.records import JobRecord
from core.engine.reconcile import UNCONFIRMED_MESSAGE
from storage.sqlite import SqliteJobStore
from tests.core.fakes import T0, FakeClock, FakeVideoProvider, RecordingPort, png, tone_wav
from tests.core.rig import CHAT, SPEC, Rig, open_rig, run_until

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
GUARD = 10.0
SILENT_WITH_AUDIO = dataclasses.replace(SPEC, model="wan2.6-i2v-flash", sound=False)


async def make(
    provider: FakeVideoProvider,
    store: SqliteJobStore,
    clock: FakeClock,
    tmp_path: Path,
    *,
    region: Region = Region.BEIJING,
    limits: Limits | None = None,
    intakes: int = 4,
) -> Rig:
    return await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        region=region,
        limit=limits.active_jobs if limits else 0,
        intakes=intakes,
    )


# ---- validation: before any row or request ------------------------------------------------


async def test_a_silent_job_with_an_audio_file_is_refused_before_any_row(
    service: Rig, store: SqliteJobStore, provider: FakeVideoProvider
) -> None:
    with pytest.raises(ValidationError, match="silent") as caught:
        service.validate(SILENT_WITH_AUDIO, audio=True)
    assert caught.value.subject is Input.AUDIO
    with pytest.raises(ValidationError, match="silent"):
        await service.submit(spec=SILENT_WITH_AUDIO, image=png(), chat=CHAT, audio=tone_wav())
    assert await store.jobs_with_status(list(JobStatus)) == [] and provider.calls == []


async def test_an_audio_file_outside_beijing_is_refused_before_any_row(
    store: SqliteJobStore, provider: FakeVideoProvider, clock: FakeClock, tmp_path: Path
) -> None:
    """The temporary upload exists only in Beijing (reference §11)."""
    service = await make(provider, store, clock, tmp_path, region=Region.SINGAPORE)
    spec = dataclasses.replace(SPEC, model="wan2.6-i2v-flash")
    with pytest.raises(ValidationError, match="Beijing") as caught:
        await service.submit(spec=spec, image=png(), chat=CHAT, audio=tone_wav())
    assert caught.value.subject is Input.AUDIO and "Leave out the audio" in caught.value.message
    assert await store.jobs_with_status(list(JobStatus)) == [] and provider.calls == []
    service.validate(spec)  # the same job without audio is fine there
    await service.aclose()


async def test_a_validation_error_after_the_row_exists_fails_the_job_with_its_message(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    message = "The prompt is 900 characters; wan2.6-i2v-flash reads at most 800. Shorten it."
    provider.create_errors.append(ValidationError(message, subject=Input.PROMPT))
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get_view(view.id)
    assert done.error_message == message != UNCONFIRMED_MESSAGE
    assert done.error_subject == "prompt" and [f.id for f in port.failures] == [view.id]
    assert provider.count("create") == 1 and provider.count("list") == 0  # never "unknown"


async def test_regenerate_refuses_settings_that_no_longer_pass(
    service: Rig, store: SqliteJobStore, tmp_path: Path
) -> None:
    # a job recorded before the rule existed: silent, with an audio file
    image, audio = tmp_path / "in.png", tmp_path / "in.mp3"
    image.write_bytes(png())
    audio.write_bytes(b"ID3")
    old = await store.insert_job(
        JobRecord(
            id=0,
            status=JobStatus.DELIVERED,
            spec=dataclasses.replace(SILENT_WITH_AUDIO, resolution="720P", duration=5),
            chat=CHAT,
            region="cn-beijing",
            created_at=T0,
            updated_at=T0,
            currency="CNY",
            image_path=str(image),
            audio_path=str(audio),
        )
    )
    with pytest.raises(ValidationError, match="silent"):
        await service.regenerate(old.id, user=CHAT.user, chat=CHAT)
    assert [j.id for j in await store.jobs_with_status(list(JobStatus))] == [old.id]


# ---- the per-user cap ---------------------------------------------------------------------


async def test_the_cap_refuses_a_fourth_unfinished_job_with_a_clear_message(
    store: SqliteJobStore,
    provider: FakeVideoProvider,
    clock: FakeClock,
    port: RecordingPort,
    tmp_path: Path,
) -> None:
    service = await make(provider, store, clock, tmp_path, limits=Limits(active_jobs=3))
    ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(3)]
    with pytest.raises(AnimateError, match=r"unfinished videos per person \(3\)") as caught:
        await service.submit(spec=SPEC, image=png(), chat=CHAT)
    assert "nothing was spent" in caught.value.message
    with pytest.raises(AnimateError, match=r"per person \(3\)"):
        await service.regenerate(ids[0], user=CHAT.user, chat=CHAT)
    other = dataclasses.replace(CHAT, user="u2")  # someone else is not held up
    await service.submit(spec=SPEC, image=png(), chat=other)
    assert len(await store.jobs_with_status(list(JobStatus))) == 4
    assert sorted(p.name for p in (tmp_path / "media" / "inputs").iterdir()) == sorted(
        Path(j.image_path or "").name for j in await store.jobs_with_status(list(JobStatus))
    )  # the refused requests left no files behind
    await run_until(service, clock, port, FINAL, ids[:1])
    await service.submit(spec=SPEC, image=png(), chat=CHAT)  # a finished job frees a place
    await service.aclose()


async def test_zero_means_no_cap(
    store: SqliteJobStore, provider: FakeVideoProvider, clock: FakeClock, tmp_path: Path
) -> None:
    service = await make(provider, store, clock, tmp_path, limits=Limits(active_jobs=0))
    for _ in range(5):
        await service.submit(spec=SPEC, image=png(), chat=CHAT)
    assert len(await store.jobs_with_status([JobStatus.QUEUED])) == 5
    await service.aclose()


async def test_concurrent_submits_cannot_both_take_the_last_place(
    store: SqliteJobStore, provider: FakeVideoProvider, clock: FakeClock, tmp_path: Path
) -> None:
    service = await make(provider, store, clock, tmp_path, limits=Limits(active_jobs=2))
    results = await asyncio.gather(
        *(service.submit(spec=SPEC, image=png(), chat=CHAT) for _ in range(6)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, AnimateError)]
    assert len(refused) == 4 and len(await store.jobs_with_status([JobStatus.QUEUED])) == 2
    await service.aclose()


async def test_intake_refuses_before_the_bytes_are_read(
    store: SqliteJobStore, provider: FakeVideoProvider, clock: FakeClock, tmp_path: Path
) -> None:
    service = await make(provider, store, clock, tmp_path, limits=Limits(active_jobs=1))
    read: list[str] = []
    async with service.intake(CHAT):
        read.append("first")
        # the same user's second request while the first still holds its bytes
        with pytest.raises(AnimateError, match=r"unfinished videos per person \(1\)"):
            async with service.intake(CHAT):
                read.append("second")
        await service.submit(spec=SPEC, image=png(), chat=CHAT)
    with pytest.raises(AnimateError, match=r"per person \(1\)"):
        async with service.intake(CHAT):
            read.append("third")
    assert read == ["first"]
    await service.aclose()


async def test_only_a_few_intakes_hold_bytes_at_once(
    store: SqliteJobStore, provider: FakeVideoProvider, clock: FakeClock, tmp_path: Path
) -> None:
    service = await make(provider, store, clock, tmp_path, intakes=2)
    inside = peak = 0
    release, two_in = asyncio.Event(), asyncio.Event()

    async def upload(user: str) -> None:
        nonlocal inside, peak
        async with service.intake(ChatRef("discord", user, "c")):
            inside += 1
            peak = max(peak, inside)
            if inside == 2:
                two_in.set()
            await release.wait()
            inside -= 1

    tasks = [asyncio.ensure_future(upload(f"u{i}")) for i in range(50)]
    await asyncio.wait_for(two_in.wait(), GUARD)
    for _ in range(100):  # plenty of chances for a third to get in (no time passes)
        await asyncio.sleep(0)
    assert inside == 2
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), GUARD)
    assert peak == 2 and inside == 0
    await service.aclose()
