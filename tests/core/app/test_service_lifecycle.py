"""The service end to end with a scripted provider and a real SQLite file."""

from __future__ import annotations

from core.domain.jobs import JobStatus
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, decoded_codec, png
from tests.core.rig import CHAT, SPEC, Rig, run_until


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
