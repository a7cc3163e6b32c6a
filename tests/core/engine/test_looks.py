"""Looks at running tasks (``core.engine.sweeps`` + ``core.engine.tracking``): a lone task is
asked directly, several of one model are watched by one list query, looks are planned after
learning, and a restart plans them afresh. The engine is driven like the worker drives it: each
pass, then the clock jumps to the pass's ``next_wakeup``."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

import pytest

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.rig import CHAT, SPEC, Rig, open_rig

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}
WATCHED = [JobStatus.PENDING, JobStatus.RUNNING]


async def drive(
    service: Rig, clock: FakeClock, port: RecordingPort, ids: list[int], *, limit: int = 5000
) -> None:
    """Passes until every job in ``ids`` is final, the clock following each pass's wakeup."""
    for _ in range(limit):
        report = await service.poll_once()
        await service.deliver_once(port)
        jobs = [await service.store.get_job(i) for i in ids]
        if all(j is not None and j.status in FINAL for j in jobs):
            return
        ahead = 1.0
        if report.next_wakeup is not None:
            ahead = (report.next_wakeup - clock.now()).total_seconds()
        clock.advance(min(5.0, max(0.2, ahead)))
    raise AssertionError("jobs did not finish")


async def job(service: Rig, job_id: int) -> JobRecord:
    found = await service.store.get_job(job_id)
    assert found is not None
    return found


def lags(provider: FakeVideoProvider, jobs: list[JobRecord]) -> list[float]:
    """Seconds from each task's end to the engine seeing it."""
    out = []
    for j in jobs:
        assert j.finished_at is not None and j.task_id is not None
        out.append((j.finished_at - provider.tasks[j.task_id].end).total_seconds())
    return out


async def test_a_lone_task_is_asked_directly_and_first_where_completions_begin(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    created = clock.now()
    await service.poll_once()
    first = (await job(service, view.id)).next_at
    assert first is not None
    # look-ahead: nothing can finish in the first seconds of a ~90 s belief, so the first look
    # waits, but lands well before the belief's median
    assert 5 < (first - created).total_seconds() < 60
    assert service.rt.engine.sweeper.next_sweep() is None  # no list look for one task
    await drive(service, clock, port, [view.id])
    assert provider.count("list") == 0  # what it costs is measured in bench/, not here


async def test_several_tasks_share_one_list_look_and_keep_only_safety_checks(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.run_seconds = 80.0
    ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(3)]
    await service.poll_once()
    sweeper = service.rt.engine.sweeper
    look = sweeper.next_sweep()
    assert look is not None and sweeper.listed(SPEC.model)
    for job_id in ids:
        own = (await job(service, job_id)).next_at
        # the task's own check waits past the belief's 98th percentile: the list watches it
        assert own is not None and own > look + timedelta(seconds=60)
    await drive(service, clock, port, ids)
    assert provider.count("list") >= 3
    # one detail query per task for its URL, plus at most a stray safety check
    assert provider.count("get") <= len(ids) + 2


async def test_the_task_left_alone_is_asked_directly_again(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.run_times.extend([30.0, 400.0])
    short, long = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in "ab"]
    await drive(service, clock, port, [short])
    sweeper = service.rt.engine.sweeper
    assert not sweeper.listed(SPEC.model) and sweeper.next_sweep() is None
    alone = await job(service, long)
    assert alone.status in WATCHED and alone.next_at is not None
    # its safety check (far past the belief's 98th percentile) became a look of its own
    assert (alone.next_at - clock.now()).total_seconds() <= 60
    lists = provider.count("list")
    await drive(service, clock, port, [long])
    assert provider.count("list") == lists


async def test_a_restart_plans_the_looks_afresh(
    service: Rig,
    clock: FakeClock,
    provider: FakeVideoProvider,
    port: RecordingPort,
    tmp_path: Path,
) -> None:
    provider.run_seconds = 100.0
    ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(3)]
    await service.poll_once()
    # a new process over the same database: the list look lived in the old one's memory
    fresh = await open_rig(tmp_path, provider=provider, clock=clock, store=service.store)
    try:
        await fresh.recover()
        old = service.rt.engine.ctx
        # on a shared store the dead process's leader role (the list looks) lasts its lease
        clock.advance(1 if old.exclusive else 1 + old.leases.seconds)
        report = await fresh.poll_once()
        assert report.next_wakeup is not None
        assert (report.next_wakeup - clock.now()).total_seconds() < 60
        assert fresh.rt.engine.sweeper.listed(SPEC.model)
        await drive(fresh, clock, port, ids)
    finally:
        await fresh.aclose()


@pytest.mark.parametrize("seconds", [22.5, 270.0])
async def test_a_wrong_prior_costs_no_seconds(
    service: Rig,
    clock: FakeClock,
    provider: FakeVideoProvider,
    port: RecordingPort,
    seconds: float,
) -> None:
    """Issue 12.0: no history, tasks 4× shorter or 3× longer than the catalog's ~90 s, twelve
    at once (five slots): the hedged belief and learning from the first completions keep the
    mean lag under 2 s."""
    spread = [0.8, 0.9, 1.0, 1.1, 1.25, 0.85, 0.95, 1.05, 1.15, 0.9, 1.0, 1.2]
    provider.run_times.extend(seconds * f for f in spread)
    ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in spread]
    await drive(service, clock, port, ids)
    done = [await job(service, i) for i in ids]
    measured = lags(provider, done)
    assert statistics.fmean(measured) <= 2.0, measured
    assert max(measured) <= 6.0, measured
