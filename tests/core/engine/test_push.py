"""Completion push in the engine (``core.engine.push``): an event makes its job due and the same
pass asks once; repeats, strangers and late events cost nothing; polling backs off while events
arrive and returns to normal after a miss."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.domain.tasks import TaskEvent, TaskStatus
from core.engine.push import Pushes
from storage.sqlite import SqliteJobStore
from tests.core.engine.test_looks import drive, job
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.rig import CHAT, SPEC, Rig, open_rig

TOKEN = "a-token-of-twenty-chars"


@pytest.fixture
async def pushed(
    tmp_path: Path, store: SqliteJobStore, provider: FakeVideoProvider, clock: FakeClock
) -> AsyncIterator[Rig]:
    rig = await open_rig(tmp_path, provider=provider, clock=clock, store=store, events_token=TOKEN)
    yield rig
    await rig.aclose()


def pushes(rig: Rig) -> Pushes:
    return rig.rt.engine.pushes


def event(task_id: str, event_id: str | None = None) -> TaskEvent:
    return TaskEvent(event_id or f"ev-{task_id}", task_id, TaskStatus.SUCCEEDED, SPEC.model)


async def started(rig: Rig) -> JobRecord:
    view = await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    await rig.poll_once()
    found = await job(rig, view.id)
    assert found.task_id is not None and found.status in (JobStatus.PENDING, JobStatus.RUNNING)
    return found


async def until(rig: Rig, clock: FakeClock, when: datetime) -> None:
    """Passes up to ``when``, the clock following each pass's wakeup (as the worker does)."""
    while clock.now() < when:
        report = await rig.poll_once()
        wakeup = report.next_wakeup or when
        clock.advance(max(0.2, min((wakeup - clock.now()).total_seconds(), 5.0)))
        clock.at = min(clock.at, when)


async def test_an_event_makes_its_job_due_and_the_same_pass_asks_once(
    pushed: Rig, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    first = await started(pushed)
    assert first.task_id is not None
    end = provider.tasks[first.task_id].end
    await until(pushed, clock, end)
    before = provider.count("get")
    assert before <= 1  # push healthy: polling only backs it up, sparsely
    clock.advance(0.3)
    assert pushes(pushed).offer(event(first.task_id)) is True
    report = await pushed.poll_once()
    assert report.pushed == 1
    assert provider.count("get") == before + 1
    done = await job(pushed, first.id)
    assert done.status in (JobStatus.SUCCEEDED, JobStatus.DOWNLOADED)
    assert done.finished_at == clock.now()


async def test_duplicates_replays_and_second_events_cost_nothing(
    pushed: Rig, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    first = await started(pushed)
    assert first.task_id is not None
    await until(pushed, clock, provider.tasks[first.task_id].end)
    hub = pushes(pushed)
    assert hub.offer(event(first.task_id)) is True
    assert hub.offer(event(first.task_id)) is False  # a duplicate (same id)
    assert hub.offer(event(first.task_id, "another-id")) is False  # the same task again
    gets = provider.count("get")
    assert (await pushed.poll_once()).pushed == 1
    assert provider.count("get") == gets + 1
    clock.advance(30)
    assert hub.offer(event(first.task_id)) is False  # a replay, long after
    assert (await pushed.poll_once()).pushed == 0
    assert provider.count("get") == gets + 1
    assert hub.repeated == 3


async def test_an_event_for_a_task_we_do_not_own_is_ignored(
    pushed: Rig, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    first = await started(pushed)
    before = await job(pushed, first.id)
    gets = provider.count("get")
    assert pushes(pushed).offer(event("someone-elses-task")) is True
    clock.advance(0.5)
    assert (await pushed.poll_once()).pushed == 0
    assert provider.count("get") == gets
    after = await job(pushed, first.id)
    assert (after.status, after.next_at) == (before.status, before.next_at)


async def test_an_event_for_a_job_polling_already_finished_asks_nothing(
    pushed: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    first = await started(pushed)
    assert first.task_id is not None
    await drive(pushed, clock, port, [first.id])  # no event came: polling found it
    calls = list(provider.calls)
    assert pushes(pushed).offer(event(first.task_id)) is True
    assert (await pushed.poll_once()).pushed == 0
    assert provider.calls == calls
    assert pushes(pushed).healthy  # a late event still proves events arrive


async def test_lost_events_are_caught_by_sparse_looks_and_two_in_a_row_end_the_back_off(
    pushed: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    config = pushed.rt.config
    hub = pushes(pushed)
    sparse_look: JobRecord | None = None
    for n in (1, 2):
        lost = await started(pushed)
        assert lost.task_id is not None
        sparse_look = sparse_look or await job(pushed, lost.id)
        await drive(pushed, clock, port, [lost.id])
        caught = await job(pushed, lost.id)
        assert caught.finished_at is not None
        lag = (caught.finished_at - provider.tasks[lost.task_id].end).total_seconds()
        assert lag <= config.push_ceiling  # within one sparse look of its end
        assert hub.missed == n - 1  # not yet a miss: its event may still be on its way
        clock.advance(config.push_grace + 1)
        await pushed.poll_once()
        assert hub.missed == n
        # one lost event is only that; two in a row mean events stopped
        assert hub.healthy is (n == 1)
    # the next task is watched as closely as without push
    normal = await started(pushed)
    assert normal.next_at is not None and sparse_look is not None
    assert sparse_look.next_at is not None
    assert normal.next_at - normal.updated_at < sparse_look.next_at - sparse_look.updated_at
    # an event for one of our tasks: events arrive again
    assert normal.task_id is not None
    hub.offer(event(normal.task_id))
    await pushed.poll_once()
    assert hub.healthy and hub.missed == 0


async def test_polling_alone_without_an_endpoint_never_backs_off(service: Rig, pushed: Rig) -> None:
    assert not pushes(service).enabled and not pushes(service).healthy
    assert pushes(pushed).enabled and pushes(pushed).healthy
