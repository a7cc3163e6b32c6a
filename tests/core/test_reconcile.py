"""Lost creates: reconciled through the task list when unambiguous, never resubmitted."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from core.jobs import JobStatus
from core.lifecycle import UNCONFIRMED_MESSAGE
from core.reconcile import match
from core.service import AnimateService
from core.store import JobRecord
from core.tasks import TaskStatus, TaskSummary
from storage.sqlite import SqliteJobStore
from tests.core.fakes import T0, FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.test_service_lifecycle import CHAT, SPEC, run_until

FINAL = {JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED}


async def test_lost_answer_is_matched_to_the_created_task(
    service: AnimateService, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
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


async def test_lost_create_that_made_nothing_fails_with_the_message_and_no_resubmit(
    service: AnimateService, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    from core.errors import OutcomeUnknownError

    provider.create_errors.append(OutcomeUnknownError(status=502))
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    await run_until(service, clock, port, FINAL, [view.id])
    done = await service.get_view(view.id)
    assert done.error_message == UNCONFIRMED_MESSAGE
    assert provider.count("create") == 1 and provider.tasks == {}
    assert [f.id for f in port.failures] == [view.id]


async def test_crash_while_submitting_is_reconciled_on_recover(
    service: AnimateService,
    store: SqliteJobStore,
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
    service: AnimateService,
    store: SqliteJobStore,
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
