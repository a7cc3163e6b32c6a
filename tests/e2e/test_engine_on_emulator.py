"""The engine against the emulator through the real DashScope client, on simulated time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench._support import SimClock
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from tests.core.fakes import RecordingPort, decoded_codec, png, tone_wav
from tests.e2e.engine_stack import Stack, engine_stack

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
SPEC = JobSpec(
    model="wan2.6-i2v-flash", prompt="a lighthouse at dusk", resolution="720P", duration=0
)


def chat(user: str = "u1", guild: str = "g1") -> ChatRef:
    return ChatRef(platform="discord", user=user, channel="c1", guild=guild)


async def drive(stack: Stack, port: RecordingPort, ids: list[int], *, limit: int = 5000) -> None:
    """Run engine passes, jumping the shared clock to the next scheduled work (≤ 1 s steps)."""
    service, clock = stack.service, stack.clock
    for _ in range(limit):
        report = await service.poll_once()
        await service.deliver_once(port)
        done = {j.id for j in await stack.store.jobs_with_status(FINAL)}
        if done.issuperset(ids):
            return
        step = 1.0
        if report.next_wakeup is not None:
            step = min(step, max(0.05, (report.next_wakeup - clock.now()).total_seconds()))
        clock.advance(step)
    raise AssertionError([await service.get(i) for i in ids])


def creates(stack: Stack) -> int:
    return sum(
        1
        for r in stack.emulator.request_log
        if r.method == "POST" and r.path.endswith("/video-synthesis")
    )


async def test_jobs_of_several_models_are_delivered_with_playable_videos(tmp_path: Path) -> None:
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        specs = [
            SPEC,
            dataclasses.replace(SPEC, model="wan2.2-i2v-flash", prompt=None),
            dataclasses.replace(SPEC, model="wanx2.1-i2v-turbo", template="flying", prompt=None),
        ]
        ids = [
            (await stack.service.submit(spec=s, image=png(), chat=chat(f"u{i}"))).id
            for i, s in enumerate(specs * 2)
        ]
        await drive(stack, port, ids)
        assert sorted(v.id for v in port.results) == ids
        for view in port.results:
            assert view.video_path is not None and decoded_codec(view.video_path) == "h264"
            assert view.cost is not None and view.cost > 0
        assert creates(stack) == len(ids) == len(stack.emulator.tasks)
        assert stack.provider.throttled == 0


async def test_429_and_5xx_are_backed_off_and_the_job_still_finishes(tmp_path: Path) -> None:
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        stack.emulator.inject("create_429", 2)
        stack.emulator.inject("query_500", 3)
        stack.emulator.inject("query_503", 2)
        view = await stack.service.submit(spec=SPEC, image=png(), chat=chat())
        await drive(stack, port, [view.id])
        assert [v.id for v in port.results] == [view.id]
        assert len(stack.emulator.tasks) == 1


async def test_connection_reset_after_create_is_reconciled_not_resubmitted(tmp_path: Path) -> None:
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        stack.emulator.inject("reset_after_create")
        view = await stack.service.submit(spec=SPEC, image=png(), chat=chat())
        await stack.service.poll_once()
        assert (await stack.service.get_view(view.id)).status is JobStatus.SUBMIT_UNKNOWN
        await drive(stack, port, [view.id])
        done = await stack.service.get_view(view.id)
        assert done.status is JobStatus.DELIVERED and done.task_id in stack.emulator.tasks
        assert creates(stack) == 1 and len(stack.emulator.tasks) == 1


async def test_reset_before_create_is_sent_again_and_delivered(tmp_path: Path) -> None:
    # formerly "fails honestly": nothing was created, which the task list now proves, so the
    # create is sent once more instead of failing with UNCONFIRMED_MESSAGE
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        stack.emulator.inject("reset_before_create")
        view = await stack.service.submit(spec=SPEC, image=png(), chat=chat())
        await drive(stack, port, [view.id])
        done = await stack.service.get_view(view.id)
        assert len(stack.emulator.tasks) == 1 and done.task_id in stack.emulator.tasks
        assert done.error_message is None and port.failures == []
        assert [r.id for r in port.results] == [view.id]


async def test_a_500_before_the_task_existed_is_resubmitted_silently(tmp_path: Path) -> None:
    """Issue 8.16, the soak's 30th job: HTTP 500 on create before the task existed."""
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        stack.emulator.inject("create_500")
        view = await stack.service.submit(spec=SPEC, image=png(), chat=chat())
        await stack.service.poll_once()
        assert (await stack.service.get_view(view.id)).status is JobStatus.SUBMIT_UNKNOWN
        await drive(stack, port, [view.id])
        done = await stack.service.get_view(view.id)
        assert done.status is JobStatus.DELIVERED and done.error_message is None
        assert [r.id for r in port.results] == [view.id] and port.failures == []
        assert creates(stack) == 2 and list(stack.emulator.tasks) == [done.task_id]
        assert view.id not in {f.id for f in port.failures}


async def test_faults_on_every_call_still_deliver_every_job_once(tmp_path: Path) -> None:
    """A small soak: 5xx before and after creates, 429s, resets; every job ends delivered with
    its own task, and no task is made twice for one job."""
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        stack.emulator.inject("create_500", 2)
        stack.emulator.inject("create_429", 2)
        stack.emulator.inject("query_500", 4)
        stack.emulator.inject("reset_before_create")
        ids = [
            (await stack.service.submit(spec=SPEC, image=png(), chat=chat(f"u{i}"))).id
            for i in range(6)
        ]
        await drive(stack, port, ids)
        assert sorted(r.id for r in port.results) == ids and port.failures == []
        tasks = [(await stack.service.get_view(i)).task_id for i in ids]
        assert sorted(t for t in tasks if t) == sorted(stack.emulator.tasks)


async def test_moderated_task_reports_the_failure(tmp_path: Path) -> None:
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        stack.emulator.inject("moderation_task")
        view = await stack.service.submit(spec=SPEC, image=png(), chat=chat())
        await drive(stack, port, [view.id])
        assert [f.id for f in port.failures] == [view.id]
        failed = port.failures[0]
        assert failed.status is JobStatus.FAILED and failed.error_message
        assert "sk-" not in failed.error_message


async def test_a_big_queue_never_draws_a_429_and_keeps_slots_full(tmp_path: Path) -> None:
    clock = SimClock()
    async with engine_stack(tmp_path, clock, duration_sigma=0.25) as stack:
        port = RecordingPort()
        ids = [
            (
                await stack.service.submit(
                    spec=SPEC, image=png(64 * 4, 48 * 4), chat=chat(f"u{i % 7}", f"g{i % 3}")
                )
            ).id
            for i in range(15)
        ]
        await drive(stack, port, ids)
        assert len(port.results) == 15 and stack.provider.throttled == 0
        tasks = list(stack.emulator.tasks.values())
        assert len(tasks) == 15
        # never more than the model's 5 slots at once on the server
        events = sorted([(t.created, 1) for t in tasks] + [(t.ended_at or 0, -1) for t in tasks])
        level = peak = 0
        for _, delta in events:
            level += delta
            peak = max(peak, level)
        assert peak <= 5


async def test_a_job_with_audio_uploads_first_then_creates_with_the_oss_url(
    tmp_path: Path,
) -> None:
    """Issue 8.5 on the real client: the upload is its own step; the create only names it."""
    clock = SimClock()
    async with engine_stack(tmp_path, clock) as stack:
        port = RecordingPort()
        view = await stack.service.submit(
            spec=SPEC, image=png(), chat=chat(), audio=tone_wav(), audio_filename="tone.wav"
        )
        await drive(stack, port, [view.id])
        assert [r.id for r in port.results] == [view.id]
        log = stack.emulator.request_log
        policy = next(i for i, r in enumerate(log) if r.path == "/api/v1/uploads")
        posted = next(i for i, r in enumerate(log) if r.path.startswith("/oss/"))
        (at,) = [i for i, r in enumerate(log) if r.path.endswith("video-synthesis")]
        assert policy < posted < at  # getPolicy, the OSS form POST, then the create
        create = log[at]
        url = create.json["input"]["audio_url"]
        assert url.startswith("oss://") and url.removeprefix("oss://") in stack.emulator.uploads
        assert create.headers["X-DashScope-OssResourceResolve"] == "enable"
        record = await stack.store.get_job(view.id)
        assert record is not None and record.audio_url == url
