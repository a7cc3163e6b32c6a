"""Every failure path of the service, with a scripted provider and a real SQLite file."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest

from core.domain.catalog import Region
from core.domain.errors import AnimateError, Input, Kind, ProviderError, ValidationError
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord
from core.engine.config import EngineConfig
from core.ports import DeliveryError, JobStore
from storage.sqlite import SqliteJobStore
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, noisy_mp4, png
from tests.core.rig import CHAT, SPEC, Rig, open_rig, run_until

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}


def busy(kind: Kind = Kind.RATE_LIMITED, retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        "slow down", kind=kind, retryable=True, status=429, retry_after=retry_after
    )


async def test_invalid_requests_get_one_clear_message_and_leave_no_row(
    service: Rig, store: JobStore, provider: FakeVideoProvider
) -> None:
    cases = [
        (dataclasses.replace(SPEC, model="wan9"), "Unknown model"),
        (dataclasses.replace(SPEC, duration=99), "not 99 s"),
        (dataclasses.replace(SPEC, prompt="x" * 1501), "Shorten it"),
        (dataclasses.replace(SPEC, aspect="2:1"), "Unknown aspect"),
    ]
    for spec, text in cases:
        with pytest.raises(ValidationError, match=text):
            await service.submit(spec=spec, image=png(), chat=CHAT)
    with pytest.raises(ValidationError) as info:
        await service.submit(spec=SPEC, image=b"not an image", chat=CHAT)
    assert info.value.subject is Input.IMAGE
    with pytest.raises(ValidationError, match="audio"):
        await service.submit(
            spec=dataclasses.replace(SPEC, model="wan2.2-i2v-flash"),
            image=png(),
            chat=CHAT,
            audio=b"RIFF",
        )
    assert await store.jobs_with_status(list(JobStatus)) == []
    assert provider.calls == []


async def test_moderation_failure_is_recorded_and_posted_once(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.fail_next.append(
        ("DataInspectionFailed", "Input data may contain inappropriate content.")
    )
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get(view.id)
    assert done is not None and done.status is JobStatus.DELIVERED
    assert done.error_code == "DataInspectionFailed" and done.error_subject is None
    assert done.error_message == "The image was rejected by content moderation."
    assert [f.status for f in port.failures] == [JobStatus.FAILED] and port.results == []
    assert provider.count("download") == 0


async def test_429_on_create_requeues_with_backoff_then_submits_once(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.create_errors.extend([busy(retry_after=5.0), busy()])
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once()
    again = await service.get(view.id)
    assert again is not None and again.status is JobStatus.QUEUED and again.queue_position == 1
    await service.poll_once(clock.advance(2))  # still inside Retry-After: no new create
    assert provider.count("create") == 1
    await run_until(service, clock, port, FINAL, [view.id])
    assert provider.count("create") == 3 and len(provider.tasks) == 1
    assert port.results[0].id == view.id


async def test_non_retryable_create_error_fails_the_job(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.create_errors.append(
        ProviderError(
            "Your account is out of credit.", kind=Kind.QUOTA, retryable=False, code="Arrearage"
        )
    )
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get(view.id)
    assert done is not None and done.error_code == "Arrearage"
    assert done.error_message == "Your account is out of credit."
    assert provider.count("create") == 1


async def test_one_bad_job_does_not_stop_the_others(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(3)]
    provider.list_errors.append(RuntimeError("list exploded"))  # sweep falls back
    provider.get_errors.extend([RuntimeError("boom"), busy(Kind.BUSY), RuntimeError("again")])
    await run_until(service, clock, port, FINAL, ids)
    assert sorted(v.id for v in port.results) == ids
    assert len(provider.tasks) == 3


async def test_cancel_rules(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    queued = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    with pytest.raises(AnimateError, match="Only the person"):
        await service.cancel(queued.id, user="someone-else", moderator=False)
    gone = await service.cancel(queued.id, user="mod", moderator=True)
    assert gone.status is JobStatus.CANCELED
    provider.queue_seconds = 30.0
    pending = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once()
    assert (await service.get_view(pending.id)).status is JobStatus.PENDING
    canceled = await service.cancel(pending.id, user="u1", moderator=False)
    assert canceled.status is JobStatus.CANCELED and provider.count("cancel") == 1
    running = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once(clock.advance(1))  # the model's submit budget refills (5/s)
    assert (await service.get_view(running.id)).status is JobStatus.PENDING
    provider.tasks["task-2"].queue_seconds = 0.0
    with pytest.raises(AnimateError, match="can no longer be canceled"):
        await service.cancel(running.id, user="u1", moderator=False)
    await run_until(service, clock, port, FINAL, [queued.id, pending.id, running.id])
    with pytest.raises(AnimateError, match="already finished"):
        await service.cancel(running.id, user="u1", moderator=False)
    assert sorted(v.id for v in port.failures) == [queued.id, pending.id]
    assert [v.id for v in port.results] == [running.id]
    assert len(provider.tasks) == 2  # the queued job never reached DashScope


async def test_task_forgotten_after_24h_expires(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.run_seconds = 200_000.0
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once()
    clock.advance(86_401)
    await run_until(service, clock, port, FINAL, [view.id], step=30)
    done = await service.get(view.id)
    assert done is not None and done.error_code == Kind.EXPIRED.value
    assert port.failures[0].status is JobStatus.EXPIRED


async def test_download_retries_until_the_url_expires(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.download_errors.extend(
        ProviderError("unreachable", kind=Kind.DOWNLOAD, retryable=True) for _ in range(500)
    )
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, {JobStatus.SUCCEEDED}, [view.id])
    await run_until(service, clock, port, FINAL, [view.id], step=600, limit=400)
    done = await service.get(view.id)
    assert done is not None and done.error_code == Kind.EXPIRED.value
    assert 5 < provider.count("download") < 500  # retried with backoff, not hammered


async def test_fair_round_robin_across_guilds_and_users(
    store: JobStore, provider: FakeVideoProvider, clock: FakeClock, tmp_path: Path
) -> None:
    config = EngineConfig(concurrency={"wan2.6-i2v-flash": 1})
    service = await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        media_dir=tmp_path,
        region=Region.BEIJING,
        config=config,
    )
    a1 = ChatRef("discord", "alice", "c", guild="A")
    a2 = ChatRef("discord", "bob", "c", guild="A")
    b1 = ChatRef("discord", "carol", "c", guild="B")
    plan = [(a1, "a1-1"), (a1, "a1-2"), (a1, "a1-3"), (a2, "a2-1"), (b1, "b1-1")]
    views = [
        await service.submit(spec=dataclasses.replace(SPEC, prompt=p), image=png(), chat=c)
        for c, p in plan
    ]
    positions = {v.spec.prompt: (await service.get_view(v.id)).queue_position for v in views}
    assert positions == {"a1-1": 1, "b1-1": 2, "a2-1": 3, "a1-2": 4, "a1-3": 5}
    port = RecordingPort()
    await run_until(service, clock, port, FINAL, [v.id for v in views], step=5)
    order = [t.request.prompt for t in provider.tasks.values() if t.request]
    assert order == ["a1-1", "b1-1", "a2-1", "a1-2", "a1-3"]
    await service.aclose()


async def test_never_more_in_flight_than_the_model_allows_nor_over_the_query_cap(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    model = "wan2.2-i2v-flash"  # 2 concurrent tasks
    spec = JobSpec(model=model, prompt="p", resolution="", duration=0)
    ids = [(await service.submit(spec=spec, image=png(), chat=CHAT)).id for _ in range(7)]
    peak = 0
    for _ in range(2000):
        before = len(provider.calls)
        await service.poll_once()
        queries = sum(1 for c in provider.calls[before:] if c in ("get", "list", "cancel"))
        assert queries <= 15
        running = sum(1 for t in provider.tasks.values() if t.status(clock.now()).terminal is False)
        peak = max(peak, running)
        await service.deliver_once(port)
        if len(port.results) == 7:
            break
        clock.advance(1)
    assert peak == 2 and len(port.results) == 7 and len(provider.tasks) == 7
    assert sorted(v.id for v in port.results) == ids


async def test_delivery_transient_then_permanent_errors(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    port = RecordingPort()
    first = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, RecordingPort(), {JobStatus.DELIVERED}, [first.id])
    second = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, {JobStatus.DOWNLOADED}, [second.id], deliver=False)
    port.errors.append(DeliveryError("discord 503", permanent=False, retry_after=3))
    assert await service.deliver_once(port) == 0
    assert await service.deliver_once(port, clock.advance(1)) == 0  # still waiting out Retry-After
    assert await service.deliver_once(port, clock.advance(10)) == 1
    assert (await service.get_view(second.id)).status is JobStatus.DELIVERED
    third = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, {JobStatus.DOWNLOADED}, [third.id], deliver=False)
    port.errors.append(DeliveryError("thread deleted", permanent=True))
    await service.deliver_once(port)
    assert (await service.get_view(third.id)).status is JobStatus.DELIVERY_FAILED
    assert [v.id for v in port.results] == [second.id]


async def test_crash_between_post_and_record_does_not_post_twice(
    service: Rig, store: JobStore, clock: FakeClock, port: RecordingPort
) -> None:
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, {JobStatus.DOWNLOADED}, [view.id], deliver=False)
    job = await store.get_job(view.id)
    assert job is not None
    # what the database looks like if the process died right after the post went out
    intent = dataclasses.replace(job, delivery_intent="result")
    assert await store.save(job, intent)
    port.posted[view.id] = "msg-already"
    assert await service.deliver_once(port) == 1
    done = await service.get_view(view.id)
    assert done.status is JobStatus.DELIVERED and done.posted_message_id == "msg-already"
    assert port.results == []


async def test_progress_edits_only_on_change_and_at_most_every_10s(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.queue_seconds = 2.0
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    times: list[float] = []
    for _ in range(200):
        await service.poll_once()
        before = len(port.progress)
        await service.deliver_once(port)
        if len(port.progress) > before:
            times.append((clock.now() - view.created_at).total_seconds())
        clock.advance(0.5)
    assert port.progress and len(port.progress) == len(set(port.progress))
    assert all(b - a >= 10 for a, b in itertools.pairwise(times))
    assert port.results and port.results[0].id == view.id


async def test_retention_deletes_media_after_n_days_and_regenerate_copies_inputs(
    service: Rig,
    clock: FakeClock,
    store: JobStore,
    port: RecordingPort,
    provider: FakeVideoProvider,
) -> None:
    # a limit below the video's size: the engine keeps a fitted copy (retention deletes it too)
    provider.video = noisy_mp4()
    port.limit = len(provider.video) // 2
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    with pytest.raises(AnimateError, match="Only the person"):
        await service.regenerate(view.id, user="u2", chat=CHAT)
    child = await service.regenerate(view.id, user="u2", chat=CHAT, moderator=True)
    parent_rec, child_rec = await store.get_job(view.id), await store.get_job(child.id)
    assert parent_rec is not None and child_rec is not None
    assert child.parent_job_id == view.id and child.chat.user == "u2"
    assert child_rec.image_path != parent_rec.image_path and child_rec.seed_used is not None
    assert parent_rec.fit_path is not None
    assert _exists(parent_rec.fit_path)
    clock.advance(8 * 86400)
    report = await service.poll_once()
    assert report.purged >= 1
    purged = await store.get_job(view.id)
    assert purged is not None and purged.media_purged and purged.video_path is None
    assert parent_rec.image_path and not _exists(parent_rec.image_path)
    assert child_rec.image_path and _exists(child_rec.image_path)
    with pytest.raises(AnimateError, match="retention"):
        await service.regenerate(view.id, user="u1", chat=CHAT)


async def test_learned_durations_cut_queries(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.run_seconds = 40.0  # the prior expects ~90 s: learning must adapt
    firsts: list[int] = []
    for _ in range(6):
        before = provider.count("get") + provider.count("list")
        view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
        await run_until(service, clock, port, FINAL, [view.id], step=0.5)
        firsts.append(provider.count("get") + provider.count("list") - before)
    stats = await service.rt.durations.forecast_for(
        JobRecord(
            0, JobStatus.QUEUED, SPEC_1080, CHAT, "cn-beijing", clock.now(), clock.now(), "CNY"
        )
    )
    assert 35 < stats.median < 50
    assert firsts[-1] <= firsts[0]


SPEC_1080 = dataclasses.replace(SPEC, resolution="1080P", duration=5)


def _exists(path: str) -> bool:
    return Path(path).exists()


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # reopens the SQLite file
async def test_a_failure_keeps_its_key_and_parameters_in_the_row(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort, tmp_path: Path
) -> None:
    """Issue 9.5: the English text alone cannot be translated later; the row keeps the key and
    the values the message names (JSON in SQLite), and the view hands them to front-ends."""
    provider.create_errors.append(
        ProviderError(
            "This DashScope account may not use wan2.6-i2v-flash.",
            key="permission.model",
            params={"model": "wan2.6-i2v-flash", "attempt": 1},
            kind=Kind.PERMISSION,
            retryable=False,
        )
    )
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    (posted,) = port.failures
    assert (posted.error_key, dict(posted.error_params)) == (
        "permission.model",
        {"model": "wan2.6-i2v-flash", "attempt": 1},
    )
    assert posted.error_message == "This DashScope account may not use wan2.6-i2v-flash."
    # a fresh connection reads the same back from the file
    async with SqliteJobStore.open(tmp_path / "db" / "animate.db") as other:
        row = await other.get_job(view.id)
    assert row is not None and row.error_key == "permission.model"
    assert dict(row.error_params) == {"model": "wan2.6-i2v-flash", "attempt": 1}
