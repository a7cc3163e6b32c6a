"""Refusals before anything is recorded or spent: validation (issue 8.14)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.catalog import Region
from core.errors import Input, ValidationError
from core.jobs import JobStatus
from core.lifecycle import UNCONFIRMED_MESSAGE
from core.service import AnimateService
from core.store import JobRecord
from storage.sqlite import SqliteJobStore
from tests.core.fakes import T0, FakeClock, FakeVideoProvider, RecordingPort, png, tone_wav
from tests.core.test_service_lifecycle import CHAT, SPEC, run_until

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
SILENT_WITH_AUDIO = dataclasses.replace(SPEC, model="wan2.6-i2v-flash", sound=False)


def make(
    provider: FakeVideoProvider,
    store: SqliteJobStore,
    clock: FakeClock,
    tmp_path: Path,
    **kw: object,
) -> AnimateService:
    options: dict[str, object] = {"region": Region.BEIJING, **kw}
    return AnimateService(
        provider=provider,
        store=store,
        clock=clock,
        media_dir=tmp_path / "media",
        **options,  # type: ignore[arg-type]  # region
    )


# ---- validation: before any row or request ------------------------------------------------


async def test_a_silent_job_with_an_audio_file_is_refused_before_any_row(
    service: AnimateService, store: SqliteJobStore, provider: FakeVideoProvider
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
    service = make(provider, store, clock, tmp_path, region=Region.SINGAPORE)
    spec = dataclasses.replace(SPEC, model="wan2.6-i2v-flash")
    with pytest.raises(ValidationError, match="Beijing") as caught:
        await service.submit(spec=spec, image=png(), chat=CHAT, audio=tone_wav())
    assert caught.value.subject is Input.AUDIO and "Leave out the audio" in caught.value.message
    assert await store.jobs_with_status(list(JobStatus)) == [] and provider.calls == []
    service.validate(spec)  # the same job without audio is fine there
    await service.aclose()


async def test_a_validation_error_after_the_row_exists_fails_the_job_with_its_message(
    service: AnimateService, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
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
    service: AnimateService, store: SqliteJobStore, tmp_path: Path
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
