"""Extend's plan: who may continue a job's video, with which model and which totals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from core.app.extend import plan, spec_for
from core.domain.catalog import Region
from core.domain.errors import AnimateError
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord

T0 = datetime(2026, 11, 30, tzinfo=UTC)
CHAT = ChatRef(platform="discord", user="u1", channel="c1", guild="g1")


def done(model: str = "wan2.7-i2v", duration: int = 5, **changes: object) -> JobRecord:
    spec = JobSpec(model=model, prompt="a cat", resolution="720P", duration=duration, seed=3)
    job = JobRecord(
        id=4,
        status=JobStatus.DELIVERED,
        spec=spec,
        chat=CHAT,
        region="cn-beijing",
        created_at=T0,
        updated_at=T0,
        currency="CNY",
        video_path="/media/results/4.mp4",
        usage_seconds=float(duration),
    )
    return dataclasses.replace(job, **changes)  # type: ignore[arg-type]  # known fields


def refused(job: JobRecord, region: Region = Region.BEIJING, user: str = "u1") -> str:
    with pytest.raises(AnimateError) as caught:
        plan(job, region, user=user, moderator=False)
    assert caught.value.key is not None
    return caught.value.key


def test_the_totals_are_longer_than_the_clip_and_the_clip_is_at_most_ten_seconds() -> None:
    five = plan(done(duration=5), Region.BEIJING, user="u1", moderator=False)
    assert (five.model.id, five.clip_seconds, five.durations) == (
        "wan2.7-i2v",
        5.0,
        tuple(range(6, 16)),
    )
    twelve = plan(done(duration=12), Region.BEIJING, user="u1", moderator=False)
    assert (twelve.clip_seconds, twelve.durations) == (10.0, (11, 12, 13, 14, 15))
    by_mod = plan(done(), Region.BEIJING, user="u9", moderator=True)
    assert by_mod.durations == five.durations


def test_the_continuation_keeps_the_settings_with_a_new_prompt_total_and_seed() -> None:
    extension = plan(done(), Region.BEIJING, user="u1", moderator=False)
    spec = spec_for(extension, prompt="it jumps", duration=9)
    assert (spec.model, spec.prompt, spec.duration, spec.seed, spec.resolution) == (
        "wan2.7-i2v",
        "it jumps",
        9,
        None,
        "720P",
    )


def test_what_cannot_be_extended_is_refused_with_the_reason() -> None:
    assert refused(done(), user="u2") == "extend.not_yours"
    assert refused(done(model="wan2.6-i2v-flash")) == "extend.model"
    assert refused(done(), Region.SINGAPORE) == "extend.model"  # no temporary storage there
    assert refused(done(video_path=None)) == "extend.video_gone"
    assert refused(done(media_purged=True)) == "extend.video_gone"
