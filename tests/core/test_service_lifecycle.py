"""The service end to end with a scripted provider and a real SQLite file."""

from __future__ import annotations

from core.domain.jobs import ChatRef, JobSpec, JobStatus
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, decoded_codec, png
from tests.core.rig import Rig

CHAT = ChatRef(platform="discord", user="u1", channel="c1", guild="g1")
SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="a cat surfing", resolution="", duration=0)


async def run_until(
    service: Rig,
    clock: FakeClock,
    port: RecordingPort,
    done: set[JobStatus],
    job_ids: list[int],
    *,
    step: float = 1.0,
    limit: int = 2000,
    deliver: bool = True,
) -> None:
    for _ in range(limit):
        await service.poll_once()
        if deliver:
            await service.deliver_once(port)
        views = [await service.get(i) for i in job_ids]
        if all(v is not None and v.status in done for v in views):
            return
        clock.advance(step)
    raise AssertionError(f"jobs did not reach {done}: {[await service.get(i) for i in job_ids]}")


async def test_full_lifecycle_queued_to_delivered(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    assert view.status is JobStatus.QUEUED
    assert view.spec.resolution == "1080P" and view.spec.duration == 5  # catalog defaults
    assert view.queue_position == 1
    assert view.eta is not None and view.eta > clock.now()
    assert view.cost_estimate == 2.5 and view.currency == "CNY"
    assert provider.calls == []  # nothing external before the row exists

    await run_until(service, clock, port, {JobStatus.DELIVERED}, [view.id])

    done = await service.get(view.id)
    assert done is not None
    assert done.task_id is not None and provider.count("create") == 1
    assert done.posted_message_id == f"msg-{view.id}"
    assert done.video_path is not None and decoded_codec(done.video_path) == "h264"
    assert done.cost == 2.5
    assert [r.id for r in port.results] == [view.id]
    shown = [s for i, s in port.progress if i == view.id]
    assert "running" in shown or "pending" in shown
    assert len(shown) == len(set(shown))  # one edit per state
    # finished within a few seconds of the task's real end
    task = provider.tasks[done.task_id]
    assert done.updated_at - task.end < (clock.now() - task.created) / 5
