"""The fair order of the queue, directly: round robin across guilds, then users, FIFO per user."""

from __future__ import annotations

from datetime import UTC, datetime

from core.domain.fairness import fair_order
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord

T = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="p", resolution="720P", duration=5)


def job(job_id: int, user: str, guild: str | None, platform: str = "discord") -> JobRecord:
    return JobRecord(
        id=job_id,
        status=JobStatus.QUEUED,
        spec=SPEC,
        chat=ChatRef(platform, user, "c", guild=guild),
        region="cn-beijing",
        created_at=T,
        updated_at=T,
        currency="CNY",
    )


def ids(jobs: list[JobRecord]) -> list[int]:
    return [j.id for j in jobs]


def test_guilds_take_turns_then_users_within_a_guild_fifo_per_user() -> None:
    queue = [
        job(1, "alice", "A"), job(2, "alice", "A"), job(3, "alice", "A"),
        job(4, "bob", "A"), job(5, "carol", "B"),
    ]  # fmt: skip
    # A, B, A (bob: fewer turns than alice), A, A
    assert ids(fair_order(queue)) == [1, 5, 4, 2, 3]


def test_recent_submissions_count_as_turns_taken() -> None:
    queue = [job(1, "alice", "A"), job(2, "carol", "B")]
    served = [job(90, "alice", "A"), job(91, "alice", "A")]
    assert ids(fair_order(queue, served)) == [2, 1]


def test_direct_messages_are_a_guild_of_their_own_per_user() -> None:
    queue = [job(1, "dave", None), job(2, "dave", None), job(3, "erin", None)]
    assert ids(fair_order(queue)) == [1, 3, 2]


def test_platforms_do_not_share_a_guild_or_a_user() -> None:
    # the same ids on Discord and Slack are different people in different places
    queue = [job(1, "u1", "G"), job(2, "u1", "G"), job(3, "u1", "G", platform="slack")]
    assert ids(fair_order(queue)) == [1, 3, 2]


def test_the_order_is_stateless() -> None:
    queue = [job(i, f"u{i % 3}", f"g{i % 2}") for i in range(1, 10)]
    assert ids(fair_order(queue)) == ids(fair_order(list(reversed(queue))))
