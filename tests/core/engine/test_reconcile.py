"""Lost creates: reconciled through the task list when unambiguous; sent again (once) only when
the list proves the create was never made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.catalog import Region
from core.domain.errors import OutcomeUnknownError
from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.domain.tasks import TaskStatus, TaskSummary
from core.engine.reconcile import NOT_CREATED_MESSAGE, UNCONFIRMED_MESSAGE, match
from core.ports import JobStore
from tests.core.fakes import T0, FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.rig import CHAT, SPEC, Rig, open_rig, run_until

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}


async def test_lost_answer_is_matched_to_the_created_task(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    provider.create_errors.append("outcome_unknown_created")
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once()
    unknown = await service.get_view(view.id)
    assert unknown.status is JobStatus.SUBMIT_UNKNOWN and unknown.task_id is None
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get_view(view.id)
    assert done.task_id == "task-1" and [r.id for r in port.results] == [view.id]
    assert provider.count("create") == 1 and len(provider.tasks) == 1


async def test_lost_create_that_made_nothing_is_sent_again_once_without_a_word(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    """Issue 8.16: the list (queried once the window settled) shows no candidate, so the create
    never happened: it is resubmitted automatically and the user only sees the video."""
    provider.create_errors.append(OutcomeUnknownError(status=500))
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get_view(view.id)
    assert done.status is JobStatus.DELIVERED and done.error_message is None
    assert [r.id for r in port.results] == [view.id] and port.failures == []
    assert provider.count("create") == 2 and list(provider.tasks) == [done.task_id]
    record = await service.store.get_job(view.id)
    assert record is not None and record.resubmits == 1


async def test_a_create_lost_twice_that_made_nothing_fails_saying_so(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    # formerly: a single such loss failed with UNCONFIRMED_MESSAGE; now the one automatic
    # resubmit comes first, and only a second proven loss fails (nothing sent a third time)
    provider.create_errors.extend([OutcomeUnknownError(status=502), OutcomeUnknownError()])
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get_view(view.id)
    assert done.error_message == NOT_CREATED_MESSAGE
    assert provider.count("create") == 2 and provider.tasks == {}
    assert [f.id for f in port.failures] == [view.id]


@dataclass
class LaggingList(FakeVideoProvider):
    """The task list shows a task only ``lag`` seconds after its creation."""

    lag: float = 8.0

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        listed = await super().list_tasks(start=start, end=end, model=model, status=status)
        seen_by = self.clock.now() - timedelta(seconds=self.lag)
        return [t for t in listed if t.created_at is not None and t.created_at <= seen_by]


async def test_an_empty_list_before_the_window_settled_proves_nothing(
    store: JobStore, clock: FakeClock, port: RecordingPort, tmp_path: Path
) -> None:
    """The task exists but is not listed yet when reconciliation first looks: it is claimed
    once listed, never created a second time."""
    provider = LaggingList(clock=clock)
    service = await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        media_dir=tmp_path / "media",
        region=Region.BEIJING,
    )
    provider.create_errors.append("outcome_unknown_created")
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id], step=0.5)
    done = await service.get_view(view.id)
    assert done.task_id == "task-1" and [r.id for r in port.results] == [view.id]
    assert provider.count("create") == 1 and len(provider.tasks) == 1
    await service.aclose()


async def test_a_truly_ambiguous_window_fails_both_jobs_with_the_message(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    """Two lost creates in the same window, one of which made a task: either job may own it,
    so neither claims it and neither is resubmitted (one task might exist)."""
    provider.create_errors.extend(["outcome_unknown_created", OutcomeUnknownError(status=500)])
    first = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    second = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [first.id, second.id])
    for job_id in (first.id, second.id):
        assert (await service.get_view(job_id)).error_message == UNCONFIRMED_MESSAGE
    assert provider.count("create") == 2 and len(provider.tasks) == 1
    assert sorted(f.id for f in port.failures) == [first.id, second.id]


async def test_crash_while_submitting_is_reconciled_on_recover(
    service: Rig,
    store: JobStore,
    clock: FakeClock,
    provider: FakeVideoProvider,
    port: RecordingPort,
) -> None:
    # the create went out and the process died before its answer was recorded
    provider.create_errors.append("outcome_unknown_created")
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once()
    job = await store.get_job(view.id)
    assert job is not None
    as_if_crashed = dataclasses.replace(
        job, status=JobStatus.SUBMITTING, submit_ended_at=None, next_at=None
    )
    assert await store.save(job, as_if_crashed)
    await service.recover()
    assert (await service.get_view(view.id)).status is JobStatus.SUBMIT_UNKNOWN
    await run_until(service, clock, port, FINAL, [view.id])
    assert (await service.get_view(view.id)).task_id == "task-1"
    assert provider.count("create") == 1


async def test_recover_resumes_every_non_final_job(
    service: Rig,
    store: JobStore,
    clock: FakeClock,
    provider: FakeVideoProvider,
    port: RecordingPort,
) -> None:
    ids = [(await service.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(4)]
    await service.poll_once()
    clock.advance(1)
    await service.poll_once()
    # simulate lost schedule fields, as after an abrupt stop mid-update
    for job in await store.jobs_with_status(list(JobStatus)):
        await store.save(job, dataclasses.replace(job, next_at=None))
    await service.recover()
    await run_until(service, clock, port, FINAL, ids)
    assert sorted(r.id for r in port.results) == ids
    assert len(provider.tasks) == 4


def _job(i: int, start: float, end: float) -> JobRecord:
    return JobRecord(
        id=i,
        status=JobStatus.SUBMIT_UNKNOWN,
        spec=SPEC,
        chat=CHAT,
        region="cn-beijing",
        created_at=T0,
        updated_at=T0,
        currency="CNY",
        submit_started_at=T0 + timedelta(seconds=start),
        submit_ended_at=T0 + timedelta(seconds=end),
    )


def _task(name: str, at: float) -> TaskSummary:
    return TaskSummary(name, TaskStatus.RUNNING, SPEC.model, T0 + timedelta(seconds=at))


def test_match_is_unambiguous_or_nothing() -> None:
    skew = timedelta(seconds=1)
    # disjoint windows: each job gets its own task
    jobs = [_job(1, 0, 1), _job(2, 10, 11)]
    found = match(jobs, [_task("a", 0.5), _task("b", 10.5)], skew)
    assert {k: v.task_id for k, v in found.items()} == {1: "a", 2: "b"}
    # overlapping windows and two tasks: we cannot tell which is whose
    jobs = [_job(1, 0, 1), _job(2, 0.2, 1.2)]
    assert match(jobs, [_task("a", 0.5), _task("b", 0.6)], skew) == {}
    # one job, two candidate tasks (a stranger's task on the same account): refuse
    assert match([_job(1, 0, 1)], [_task("a", 0.5), _task("b", 0.7)], skew) == {}
    # nothing in the window
    assert match([_job(1, 0, 1)], [_task("a", 30)], skew) == {}
    # propagation: job 2's only candidate is b once job 1 took a (a outside job 2's window)
    jobs = [_job(1, 0, 0.1), _job(2, 5, 5.1)]
    found = match(jobs, [_task("a", 0.05), _task("b", 5.05)], skew)
    assert len(found) == 2


@dataclass
class ForgetfulList(FakeVideoProvider):
    """The task list no longer shows tasks older than 24 h (whether DashScope's does is
    [uncertain] in the reference, §7.4/§8.4; its window is documented as at most 24 h)."""

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        listed = await super().list_tasks(start=start, end=end, model=model, status=status)
        since = self.clock.now() - timedelta(hours=24)
        return [t for t in listed if t.created_at is not None and t.created_at >= since]


async def test_a_window_older_than_the_lists_memory_proves_nothing(
    store: JobStore, clock: FakeClock, port: RecordingPort, tmp_path: Path
) -> None:
    """Down for more than a day with a create in flight: an empty list for a window that old
    is no proof the task was never made; the job fails saying so, nothing is sent again."""
    provider = ForgetfulList(clock=clock)
    service = await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        media_dir=tmp_path / "media",
        region=Region.BEIJING,
    )
    provider.create_errors.append("outcome_unknown_created")
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await service.poll_once()
    job = await store.get_job(view.id)
    assert job is not None
    as_if_crashed = dataclasses.replace(
        job, status=JobStatus.SUBMITTING, submit_ended_at=None, next_at=None
    )
    assert await store.save(job, as_if_crashed)
    clock.advance(25 * 3600)
    await service.recover()
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get_view(view.id)
    assert done.error_message == UNCONFIRMED_MESSAGE
    assert provider.count("create") == 1
    await service.aclose()
