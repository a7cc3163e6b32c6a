"""The live queue (issue 10): a waiting job's status message shows its place and expected start,
edited when the place changes, at most once per message per ``progress_interval``; the places
follow the fair order, so one user's many jobs do not hold everyone else back."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.jobs import ChatRef, JobStatus, JobView
from core.engine.config import EngineConfig
from core.ports import DeliveryError
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.rig import CHAT, SPEC, Rig, open_rig

MODEL = "wan2.6-i2v-flash"


@dataclass
class QueuePort(RecordingPort):
    """Records every status edit: job, status, place, expected start, when."""

    clock: FakeClock = field(default_factory=FakeClock)
    edits: list[tuple[int, str, int | None, datetime | None, datetime]] = field(
        default_factory=list
    )

    async def post_progress(self, job: JobView) -> None:
        await super().post_progress(job)
        self.edits.append(
            (job.id, job.status.value, job.queue_position, job.starts_at, self.clock.now())
        )

    def places(self, job_id: int) -> list[int | None]:
        return [p for i, s, p, _, _ in self.edits if i == job_id and s == "queued"]


async def posted(rig: Rig, chat: ChatRef) -> JobView:
    """Submit and show it, as a front-end does: the status message shows the submit's view."""
    view = await rig.service.submit(spec=SPEC, image=png(), chat=chat)
    await rig.attach_chat(view.id, thread="t", status_message=f"m{view.id}", shown=view)
    return view


async def test_waiting_jobs_show_their_place_as_it_moves_at_most_every_ten_seconds(
    tmp_path: object, clock: FakeClock
) -> None:
    provider = FakeVideoProvider(clock=clock, run_seconds=25.0, queue_seconds=0.0)
    config = EngineConfig(concurrency={MODEL: 1}, progress_interval=10.0, sweep=False)
    rig = await open_rig(tmp_path, provider=provider, clock=clock, config=config)  # type: ignore[arg-type]  # pytest's tmp_path
    port = QueuePort(clock=clock)
    # one user with three jobs, then another user with one: round robin puts the second
    # user's job second, not fourth
    many = [await posted(rig, CHAT) for _ in range(3)]
    other = await posted(rig, dataclasses.replace(CHAT, user="u2"))
    # as each was shown at its submit; the other user's job then goes ahead of the third
    assert [v.queue_position for v in (*many, other)] == [1, 2, 3, 2]
    # the first takes the free slot now: no expected start (it would read "a few seconds ago")
    assert many[0].starts_at is None
    assert all(v.starts_at is not None for v in (*many[1:], other))
    assert other.starts_at is not None and many[2].starts_at is not None
    assert other.starts_at < many[2].starts_at
    for _ in range(200):
        await rig.poll_once()
        await rig.deliver_once(port)
        done = [await rig.get_view(v.id) for v in (*many, other)]
        if all(v.status is JobStatus.DELIVERED for v in done):
            break
        clock.advance(1.0)
    else:
        raise AssertionError(port.edits)
    # each waiting job was shown moving up, one place at a time (the submit showed the first)
    assert port.places(many[2].id) == [2, 1]
    assert port.places(other.id) == [1]
    assert port.places(many[1].id) == [1]
    starts = [at for i, s, _, at, _ in port.edits if i == many[2].id and s == "queued"]
    assert all(a is not None for a in starts)
    # never two edits of one message within the interval
    for job in (*many, other):
        times = [at for i, _, _, _, at in port.edits if i == job.id]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert all(g >= 10.0 for g in gaps), (job.id, gaps)
    await rig.aclose()


async def test_a_place_already_shown_is_not_edited_again(
    tmp_path: object, clock: FakeClock
) -> None:
    provider = FakeVideoProvider(clock=clock, run_seconds=600.0, queue_seconds=0.0)
    config = EngineConfig(concurrency={MODEL: 1}, sweep=False)
    rig = await open_rig(tmp_path, provider=provider, clock=clock, config=config)  # type: ignore[arg-type]  # pytest's tmp_path
    port = QueuePort(clock=clock)
    first = await posted(rig, CHAT)
    second = await posted(rig, dataclasses.replace(CHAT, user="u2"))
    await rig.poll_once()  # the first takes the only slot: the second becomes #1
    for _ in range(5):
        await rig.deliver_once(port)
        clock.advance(15.0)
    assert port.places(second.id) == [1]  # shown once, not on every pass
    assert (await rig.get_view(first.id)).status in (JobStatus.PENDING, JobStatus.RUNNING)
    await rig.aclose()


@dataclass
class GonePort(QueuePort):
    """The status messages of ``gone`` were deleted: editing them fails for good."""

    gone: set[int] = field(default_factory=set)
    tries: list[int] = field(default_factory=list)

    async def post_progress(self, job: JobView) -> None:
        if job.id in self.gone:
            self.tries.append(job.id)
            raise DeliveryError("Discord 404: Unknown Message", permanent=True)
        await super().post_progress(job)


async def test_a_status_message_that_is_gone_is_not_edited_again_and_again(
    tmp_path: object, clock: FakeClock
) -> None:
    provider = FakeVideoProvider(clock=clock, run_seconds=600.0, queue_seconds=0.0)
    config = EngineConfig(concurrency={MODEL: 1}, sweep=False)
    rig = await open_rig(tmp_path, provider=provider, clock=clock, config=config)  # type: ignore[arg-type]  # pytest's tmp_path
    await posted(rig, CHAT)
    second = await posted(rig, dataclasses.replace(CHAT, user="u2"))
    port = GonePort(clock=clock, gone={second.id})
    await rig.poll_once()  # the second moves up to #1: its message should change
    for _ in range(4):
        await rig.deliver_once(port)
        clock.advance(15.0)
    assert port.tries == [second.id]  # tried once, failed for good, never tried again
    await rig.aclose()
