"""Learned generation times (``core.estimates``): the hedged belief, persisted in the store's three
numbers, shared by a fresh cache (a restart) and by the views' ETA."""

from __future__ import annotations

import math
from datetime import timedelta

from core.domain.durations import DurationKey
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord
from core.domain.tasks import TaskInfo, TaskStatus
from core.estimates import Durations, key_of, prior_of
from core.polling import PRIOR_SIGMA
from storage.sqlite import SqliteJobStore
from tests.core.fakes import T0

SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="p", resolution="1080P", duration=5)


def job(spec: JobSpec = SPEC) -> JobRecord:
    return JobRecord(0, JobStatus.RUNNING, spec, ChatRef("discord", "u", "c"), "cn-beijing",
                     T0, T0, "CNY", submit_ended_at=T0)  # fmt: skip


def finished(seconds: float) -> TaskInfo:
    return TaskInfo(
        "t", TaskStatus.SUCCEEDED, submit_time=T0, end_time=T0 + timedelta(seconds=seconds)
    )


async def test_the_prior_is_broad_until_a_sample_and_learning_persists(
    store: SqliteJobStore,
) -> None:
    durations = Durations(store)
    cold = await durations.forecast_for(job())
    assert math.isclose(cold.median, prior_of(job())) and prior_of(job()) == 90.0
    assert cold.sigma > PRIOR_SIGMA and cold.hedge > 0.5  # hedged: the catalog may be 4x off
    for seconds in (21.0, 19.0, 20.5):
        await durations.learn(job(), finished(seconds), T0)
    learned = await durations.forecast_for(job())
    assert 18 < learned.median < 24 and learned.sigma < cold.sigma and learned.hedge < 0.1
    stats = await store.get_duration_stats(key_of(job()))
    assert stats is not None and stats.samples == 3
    assert math.isclose(stats.log_mean, math.log(21.0 * 19.0 * 20.5) / 3)
    # a restart reads the same belief
    assert await Durations(store).forecast_for(job()) == learned
    assert await Durations(store).expected_seconds(job()) > learned.median


async def test_implausible_times_teach_nothing_and_an_unknown_model_has_a_prior(
    store: SqliteJobStore,
) -> None:
    durations = Durations(store)
    late = job()
    await durations.learn(late, TaskInfo("t", TaskStatus.SUCCEEDED), T0 - timedelta(seconds=5))
    await durations.learn(late, finished(-3.0), T0 - timedelta(seconds=1))
    assert await store.get_duration_stats(key_of(late)) is None
    gone = job(JobSpec(model="wan9-retired", prompt="p", resolution="720P", duration=5))
    assert prior_of(gone) == 120.0
    assert math.isclose((await durations.forecast_for(gone)).median, 120.0)
    assert key_of(gone) == DurationKey("wan9-retired", "720P", 5)
