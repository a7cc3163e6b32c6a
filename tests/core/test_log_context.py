"""The job a log line is about: set for a block, inherited by tasks started in it, reset after."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.log_context import about, current


def job(job_id: int, guild: str | None = "G") -> JobView:
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    return JobView(
        id=job_id,
        status=JobStatus.QUEUED,
        spec=JobSpec(model="m", prompt=None, resolution="720P", duration=5),
        chat=ChatRef(platform="discord", user="U", channel="C", guild=guild),
        created_at=t0,
        updated_at=t0,
    )


async def test_fields_are_set_for_the_block_and_inherited_by_its_tasks() -> None:
    assert current() == {}

    async def background() -> str:
        await asyncio.sleep(0)
        return current()["job_id"]

    with about(job(1)):
        assert dict(current()) == {
            "job_id": "1",
            "platform": "discord",
            "guild": "G",
            "user_id": "U",
            "model": "m",
        }, "no task id yet: the field is left out, not empty"
        task = asyncio.create_task(background())
        with about(job(2, guild=None)):
            assert current()["job_id"] == "2" and "guild" not in current()
        assert current()["job_id"] == "1"
    assert current() == {}
    assert await task == "1", "a task started inside keeps the job it was started for"
