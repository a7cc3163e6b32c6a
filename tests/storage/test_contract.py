"""The job store contract, run on every backend (SQLite and PostgreSQL, see ``conftest``):
migrations, round trips, conditional writes, the capped insert, indexed queries."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from types import MappingProxyType

import pytest

from core.domain.durations import DurationKey, DurationStats
from core.domain.jobs import ACTIVE, ChatRef, JobSpec, JobStatus
from core.domain.quota import Limits, Quota
from core.domain.records import JobRecord, transition
from core.rows import update
from tests.core.fakes import T0
from tests.storage.backends import Backend


def record(**kw: object) -> JobRecord:
    base = JobRecord(
        id=0,
        status=JobStatus.QUEUED,
        spec=JobSpec(model="wan2.6-i2v-flash", prompt="p", resolution="720P", duration=5),
        chat=ChatRef(platform="discord", user="u", channel="c", guild="g"),
        region="cn-beijing",
        created_at=T0,
        updated_at=T0,
        currency="CNY",
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]  # test helper: any field


async def test_migrations_record_the_version_and_reopen_is_idempotent(backend: Backend) -> None:
    async with backend.open() as store:
        await store.insert_job(record())
    async with backend.open() as store:
        assert await store.get_job(1) is not None
    assert backend.schema_version() == len(backend.migrations()) >= 4


async def test_round_trip_keeps_every_field_and_aware_times(backend: Backend) -> None:
    async with backend.open() as store:
        full = record(
            spec=JobSpec("wan2.6-i2v", "p", "1080P", 10, "neg", 7, False, True, False, None, "1:1"),
            chat=ChatRef("discord", "u", "c", None, "t", "m", "zh-CN"),
            task_id="t-1",
            next_at=T0 + timedelta(seconds=1.5),
            video_url_expires_at=T0 + timedelta(days=1, microseconds=1),
            usage_seconds=10.0,
            cost=10.0,
            media_purged=True,
            parent_job_id=None,
            audio_url="oss://dashscope-instant/x/a.mp3",
            audio_url_expires_at=T0 + timedelta(hours=48),
            fit_limit=10_485_760,
            fit_path="/m/videos/job-1-fit-10485760.mp4",
            resubmits=1,
            seed_used=2_147_483_647,
            error_key="model.unavailable",
            error_params=MappingProxyType({"model": "wan2.2-i2v-flash", "seconds": 5}),
        )
        saved = await store.insert_job(full)
        got = await store.get_job(saved.id)
        assert got == saved
        assert got is not None and got.next_at is not None and got.next_at.tzinfo is not None
        assert got.next_at.utcoffset() == timedelta(0)
        assert await store.get_job(saved.id + 1) is None


async def test_save_compares_and_bumps_the_version_and_writes_only_changes(
    backend: Backend,
) -> None:
    async with backend.open() as store:
        job = await store.insert_job(record())
        moved = await store.save(job, dataclasses.replace(job, status=JobStatus.SUBMITTING))
        assert moved is not None and moved.version == job.version + 1
        # a stale writer that still believes the job is QUEUED is refused
        assert await store.save(job, dataclasses.replace(job, status=JobStatus.CANCELED)) is None
        # two writers holding the same copy: the first wins, the second is refused, not merged
        chat = dataclasses.replace(moved, chat=dataclasses.replace(moved.chat, thread="th"))
        assert await store.save(moved, chat) is not None
        assert await store.save(moved, dataclasses.replace(moved, attempts=3)) is None
        got = await store.get_job(job.id)
        assert got is not None
        assert (got.status, got.chat.thread, got.attempts) == (JobStatus.SUBMITTING, "th", 0)
        assert got.version == job.version + 2
        # nothing changed: nothing written, the version stays
        same = await store.save(got, got)
        assert same == got
        assert (await store.get_job(job.id)) == got
        with pytest.raises(ValueError, match="same job"):
            await store.save(got, dataclasses.replace(got, id=got.id + 1))


async def test_a_durable_save_writes_like_any_other(backend: Backend) -> None:
    async with backend.open() as store:
        job = await store.insert_job(record())
        sending = await store.save(
            job, dataclasses.replace(job, status=JobStatus.SUBMITTING), durable=True
        )
        assert sending is not None and sending.version == job.version + 1
        assert await store.get_job(job.id) == sending
        stale = dataclasses.replace(job, status=JobStatus.CANCELED)
        assert await store.save(job, stale, durable=True) is None


async def test_update_reapplies_a_stale_change_on_the_fresh_row(backend: Backend) -> None:
    async with backend.open() as store:
        job = await store.insert_job(record(status=JobStatus.RUNNING, deliver_at=T0))
        # another writer (the delivery pass) clears deliver_at after our copy was taken
        await store.save(job, dataclasses.replace(job, deliver_at=None, progress_status="running"))
        seen: list[datetime | None] = []

        def succeed(j: JobRecord) -> JobRecord:
            seen.append(j.deliver_at)
            return transition(j, JobStatus.SUCCEEDED, T0 + timedelta(seconds=9))

        saved = await update(store, job, succeed)
        assert saved is not None and seen == [T0, None]  # re-run on the fresh copy
        got = await store.get_job(job.id)
        assert got is not None and got.status is JobStatus.SUCCEEDED
        assert got.progress_status == "running"  # the other writer's change survives
        assert got.deliver_at == T0 + timedelta(seconds=9)  # recomputed, not the stale value


async def test_update_gives_up_when_the_row_moved_to_another_status(backend: Backend) -> None:
    async with backend.open() as store:
        job = await store.insert_job(record(status=JobStatus.QUEUED))
        await store.save(job, dataclasses.replace(job, status=JobStatus.CANCELED))
        saved = await update(store, job, lambda j: transition(j, JobStatus.SUBMITTING, T0))
        assert saved is None
        got = await store.get_job(job.id)
        assert got is not None and got.status is JobStatus.CANCELED


async def test_due_query_orders_by_time_and_counts_in_flight(backend: Backend) -> None:
    async with backend.open() as store:
        assert await store.next_due([JobStatus.RUNNING]) is None
        for i in range(5):
            await store.insert_job(
                record(
                    status=JobStatus.RUNNING, next_at=T0 + timedelta(seconds=5 - i), task_id=f"t{i}"
                )
            )
        await store.insert_job(record(status=JobStatus.QUEUED, next_at=T0))
        due = await store.due_jobs(T0 + timedelta(seconds=3), [JobStatus.RUNNING], limit=10)
        assert [j.task_id for j in due] == ["t4", "t3", "t2"]
        due = await store.due_jobs(T0 + timedelta(seconds=3), [JobStatus.RUNNING], limit=2)
        assert [j.task_id for j in due] == ["t4", "t3"]
        assert await store.next_due([JobStatus.RUNNING]) == T0 + timedelta(seconds=1)
        assert await store.next_due([JobStatus.RUNNING, JobStatus.QUEUED]) == T0
        assert await store.in_flight_counts([JobStatus.RUNNING]) == {"wan2.6-i2v-flash": 5}
        assert await store.claimed_task_ids(["t1", "zz"]) == {"t1"}
        assert await store.claimed_task_ids([]) == set()
        running = await store.jobs_with_status([JobStatus.RUNNING])
        assert [j.task_id for j in running] == ["t0", "t1", "t2", "t3", "t4"]  # by id
        # no statuses asked for: nothing matches (and nothing breaks)
        assert await store.due_jobs(T0 + timedelta(days=1), [], limit=10) == []
        assert await store.next_due([]) is None
        assert await store.jobs_with_status([]) == []
        assert await store.in_flight_counts([]) == {}
        assert await store.count_active("discord", "u", []) == 0


# The hot queries and the index each one must be able to use (SQL both dialects accept).
INDEXED = [
    (
        "SELECT id FROM jobs WHERE next_at IS NOT NULL AND next_at <= 1 "
        "AND status IN ('running') ORDER BY next_at LIMIT 5",
        "jobs_due",
    ),
    (
        "SELECT id FROM jobs WHERE deliver_at IS NOT NULL AND deliver_at <= 1 "
        "ORDER BY deliver_at LIMIT 5",
        "jobs_deliver_at",
    ),
    (
        "SELECT COUNT(*) FROM jobs WHERE platform = 'discord' AND user_id = 'u' "
        "AND status IN ('queued', 'running')",
        "jobs_user_status",
    ),
    (
        "SELECT SUM(duration) FROM jobs WHERE platform = 'discord' AND user_id = 'u' "
        "AND created_at >= 1",
        "jobs_user_created",
    ),
    (
        "SELECT SUM(cost_estimate) FROM jobs WHERE platform = 'discord' AND guild_id = 'g' "
        "AND created_at >= 1",
        "jobs_guild_created",
    ),
    (
        "SELECT id FROM jobs WHERE platform = 'discord' AND user_id = 'u' ORDER BY id DESC LIMIT 5",
        "jobs_user",
    ),
    (
        "SELECT id FROM jobs WHERE submit_started_at IS NOT NULL AND submit_started_at >= 1",
        "jobs_submitted",
    ),
    ("SELECT model, COUNT(*) FROM jobs WHERE status IN ('running') GROUP BY model", "jobs_status"),
    (
        "SELECT id FROM jobs WHERE media_purged = 0 AND delivered_at IS NOT NULL "
        "AND delivered_at < 1 ORDER BY delivered_at LIMIT 5",
        "jobs_retention",
    ),
]


@pytest.mark.parametrize(("query", "index"), INDEXED, ids=[i for _, i in INDEXED])
async def test_hot_queries_can_use_their_index(backend: Backend, query: str, index: str) -> None:
    async with backend.open():
        pass
    if backend.name == "postgres":  # timestamptz instead of epoch seconds, boolean flags
        for sqlite, postgres in (
            ("= 1", "= now()"),
            ("< 1", "< now()"),
            (">= 1", ">= now()"),
            ("= 0", "= false"),
        ):
            query = query.replace(sqlite, postgres)
    assert backend.uses_index(query, index)


async def test_a_task_id_finds_its_job_through_the_unique_index(backend: Backend) -> None:
    async with backend.open() as store:
        for i in range(3):
            await store.insert_job(record(task_id=f"t-{i}", status=JobStatus.RUNNING))
        await store.insert_job(record())  # no task yet
        found = await store.job_for_task("t-1")
        assert found is not None and found.task_id == "t-1" and found.id == 2
        assert await store.job_for_task("t-9") is None
    index = "sqlite_autoindex_jobs_1" if backend.name == "sqlite" else "jobs_task_id_key"
    assert backend.uses_index("SELECT id FROM jobs WHERE task_id = 't-1'", index)


async def test_unscheduled_jobs_are_scheduled_in_one_statement(backend: Backend) -> None:
    """Recovery after a restart (issue 12.4): only the rows without a schedule change."""
    later = T0 + timedelta(hours=1)
    async with backend.open() as store:
        lost = await store.insert_job(record(status=JobStatus.QUEUED, next_at=None))
        kept = await store.insert_job(record(status=JobStatus.QUEUED, next_at=later))
        untold = await store.insert_job(record(status=JobStatus.FAILED, deliver_at=None))
        told = await store.insert_job(record(status=JobStatus.FAILED, deliver_at=later))
        done = await store.insert_job(record(status=JobStatus.DELIVERED))
        now = T0 + timedelta(minutes=5)
        written = await store.schedule_unscheduled(
            now, due=[JobStatus.QUEUED], deliverable=[JobStatus.FAILED]
        )
        assert written == 2
        got = {j.id: j for j in await store.jobs_with_status(list(JobStatus))}
        assert (got[lost.id].next_at, got[lost.id].deliver_at) == (now, None)
        assert got[lost.id].version == lost.version + 1 and got[lost.id].updated_at == now
        assert (got[untold.id].deliver_at, got[untold.id].next_at) == (now, None)
        for same in (kept, told, done):
            assert got[same.id] == same
        # nothing left to do: a second run writes nothing
        assert (
            await store.schedule_unscheduled(
                now, due=[JobStatus.QUEUED], deliverable=[JobStatus.FAILED]
            )
            == 0
        )


async def test_duration_stats_upsert(backend: Backend) -> None:
    async with backend.open() as store:
        key = DurationKey("wan2.6-i2v-flash", "720P", 5)
        assert await store.get_duration_stats(key) is None
        await store.save_duration_stats(key, DurationStats(1, 4.0, 0.1), T0)
        await store.save_duration_stats(key, DurationStats(2, 4.2, 0.05), T0)
        assert await store.get_duration_stats(key) == DurationStats(2, 4.2, 0.05)
        assert await store.get_duration_stats(DurationKey("wan2.6-i2v-flash", "720P", 10)) is None


async def test_failed_migration_leaves_the_database_untouched(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = backend.migrations()
    backend.patch_migrations(
        monkeypatch, lambda: [*good, (len(good) + 1, "9999_bad.sql", "CREATE TABLE x (; nonsense")]
    )
    with pytest.raises(backend.syntax_error):
        async with backend.open():
            pass
    assert backend.schema_version() == 0
    assert not backend.has_table("jobs")


async def test_fill_column_from_migration_2_round_trips(backend: Backend) -> None:
    spec = JobSpec(
        model="wan2.6-i2v-flash",
        prompt="p",
        resolution="720P",
        duration=5,
        aspect="1:1",
        fill="blur",
    )
    async with backend.open() as store:
        job = await store.insert_job(record(spec=spec))
        got = await store.get_job(job.id)
    assert got is not None and (got.spec.aspect, got.spec.fill) == ("1:1", "blur")


async def test_a_database_newer_than_the_code_is_refused(backend: Backend) -> None:
    """A downgraded binary must not run against a schema it does not know."""
    async with backend.open():
        pass
    backend.set_schema_version(len(backend.migrations()) + 1)
    with pytest.raises(RuntimeError, match="newer than this code"):
        async with backend.open():
            pass


async def test_the_capped_insert_is_one_atomic_step_even_across_connections(
    backend: Backend,
) -> None:
    """Issue 8.4: two requests at once (two processes, here two stores) cannot both take the
    last place; finished jobs and other users do not count."""
    cap = Quota("discord", "u", "g", T0, "CNY", Limits(active_jobs=3))
    async with backend.open() as a, backend.open() as b:
        await a.insert_job(record(status=JobStatus.RUNNING))
        await a.insert_job(record(status=JobStatus.DELIVERED))
        await a.insert_job(record(chat=ChatRef("discord", "someone-else", "c")))
        results = await asyncio.gather(*(s.insert_job_within(record(), cap) for s in (a, b) * 5))
        assert sum(r is not None for r in results) == 2
        assert await b.count_active("discord", "u", ACTIVE) == 3
        assert await b.count_active("discord", "someone-else", ACTIVE) == 1
        assert await b.count_active("slack", "u", ACTIVE) == 0
        ids = sorted(r.id for r in results if r is not None)
        assert [j.id for j in await a.jobs_with_status([JobStatus.QUEUED])][-2:] == ids


async def test_uploads_due_and_referenced_files(backend: Backend) -> None:
    async with backend.open() as store:
        later = T0 + timedelta(hours=1)
        fresh = await store.insert_job(
            record(
                next_at=T0,
                audio_path="/i/a.mp3",
                audio_url="oss://x/a",
                audio_url_expires_at=T0 + timedelta(hours=40),
            )
        )
        stale = await store.insert_job(
            record(
                next_at=T0, audio_path="/i/b.mp3", audio_url="oss://x/b", audio_url_expires_at=later
            )
        )
        never = await store.insert_job(
            record(next_at=T0, audio_path="/i/c.mp3", image_path="/i/c.png")
        )
        await store.insert_job(record(next_at=T0 + timedelta(minutes=5), audio_path="/i/d.mp3"))
        await store.insert_job(record(next_at=T0))  # no audio
        await store.insert_job(record(status=JobStatus.RUNNING, next_at=T0, audio_path="/i/e.mp3"))
        due = await store.uploads_due(T0, fresh_until=T0 + timedelta(hours=2), limit=10)
        assert sorted(j.id for j in due) == sorted([stale.id, never.id])
        assert fresh.id not in {j.id for j in due}
        await store.insert_job(record(video_path="/v/f.mp4", fit_path="/v/f-fit.mp4"))
        assert await store.referenced_files() == {
            "/i/a.mp3",
            "/i/b.mp3",
            "/i/c.mp3",
            "/i/c.png",
            "/i/d.mp3",
            "/i/e.mp3",
            "/v/f.mp4",
            "/v/f-fit.mp4",
        }


async def test_delivery_history_and_retention_queries(backend: Backend) -> None:
    async with backend.open() as store:
        t = [T0 + timedelta(minutes=m) for m in range(6)]
        late = await store.insert_job(record(deliver_at=t[3]))
        early = await store.insert_job(record(deliver_at=t[1]))
        await store.insert_job(record(deliver_at=t[5]))  # not yet
        assert [j.id for j in await store.deliverable_jobs(t[4], limit=10)] == [early.id, late.id]
        assert [j.id for j in await store.deliverable_jobs(t[4], limit=1)] == [early.id]

        sent_at = await store.insert_job(record(submit_started_at=t[2]))
        after = await store.insert_job(record(submit_started_at=t[4]))
        first = await store.insert_job(record(submit_started_at=t[1]))
        since = await store.submitted_since(t[2])  # inclusive
        assert sorted(j.id for j in since) == [sent_at.id, after.id]

        other = await store.insert_job(record(chat=ChatRef("slack", "u", "c")))
        mine = await store.recent_jobs("discord", "u", 3)
        assert [j.id for j in mine] == [first.id, after.id, sent_at.id]
        assert other.id not in {j.id for j in await store.recent_jobs("discord", "u", 100)}

        done = JobStatus.DELIVERED
        old = await store.insert_job(record(status=done, delivered_at=t[0]))
        older = await store.insert_job(record(status=JobStatus.DELIVERY_FAILED, delivered_at=t[0]))
        await store.insert_job(record(status=done, delivered_at=t[0], media_purged=True))
        await store.insert_job(record(status=done, delivered_at=t[5]))  # too recent
        purge = await store.purgeable_jobs(t[1], limit=10)
        assert sorted(j.id for j in purge) == [old.id, older.id]
        assert len(await store.purgeable_jobs(t[1], limit=1)) == 1


async def test_the_media_of_issue_14_round_trip(backend: Backend) -> None:
    """An end image, a clip with its upload, Wan 3.0's ratio and the quoted unit price."""
    spec = JobSpec("wan3.0-video", "p", "720P", 12, ratio="9:16")
    async with backend.open() as store:
        saved = await store.insert_job(
            record(
                spec=spec,
                last_frame_path="/i/end.png",
                last_frame_mime="image/png",
                clip_path="/i/c.mp4",
                clip_mime="video/mp4",
                clip_seconds=3.04,
                clip_url="oss://dashscope-instant/x/c.mp4",
                clip_url_expires_at=T0 + timedelta(hours=48, microseconds=7),
                unit_price=0.6,
            )
        )
        got = await store.get_job(saved.id)
        assert got == saved and got is not None
        assert (got.spec.ratio, got.clip_seconds, got.unit_price) == ("9:16", 3.04, 0.6)
        unknown = await store.insert_job(record(unit_price=None))
        fresh = await store.get_job(unknown.id)
        assert fresh is not None and fresh.unit_price is None and fresh.spec.ratio is None


async def test_a_clip_is_uploaded_like_audio_and_its_files_are_referenced(
    backend: Backend,
) -> None:
    async with backend.open() as store:
        never = await store.insert_job(record(next_at=T0, clip_path="/i/a.mp4"))
        stale = await store.insert_job(
            record(
                next_at=T0,
                clip_path="/i/b.mp4",
                clip_url="oss://x/b",
                clip_url_expires_at=T0 + timedelta(hours=1),
            )
        )
        await store.insert_job(
            record(
                next_at=T0,
                clip_path="/i/c.mov",
                clip_url="oss://x/c",
                clip_url_expires_at=T0 + timedelta(hours=40),
                last_frame_path="/i/c-end.png",
            )
        )
        due = await store.uploads_due(T0, fresh_until=T0 + timedelta(hours=2), limit=10)
        assert sorted(j.id for j in due) == [never.id, stale.id]
        assert await store.referenced_files() == {
            "/i/a.mp4",
            "/i/b.mp4",
            "/i/c.mov",
            "/i/c-end.png",
        }


async def test_the_wan_media_migration_keeps_the_price_earlier_jobs_were_quoted_at(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = backend.migrations()
    ours = next(v for v, name, _ in shipped if name.endswith("_wan_media.sql"))
    backend.patch_migrations(monkeypatch, lambda: shipped[: ours - 1])
    async with backend.open():
        pass
    when = "0" if backend.name == "sqlite" else "now()"
    for estimate in ("1.5", "0"):  # a published price, and none (estimate 0)
        insert = (
            "INSERT INTO jobs (status, region, model, resolution, duration, prompt_extend, "  # noqa: S608 - the test's own literals
            "watermark, sound, aspect, platform, user_id, channel_id, locale, created_at, "
            "updated_at, cost_estimate, currency) VALUES ('queued', 'cn-beijing', "
            "'wan2.6-i2v-flash', '720P', 5, TRUE, FALSE, TRUE, 'original', 'discord', 'u', "
            f"'c', 'en-US', {when}, {when}, {estimate}, 'CNY')"
        )
        backend.execute(insert)
    monkeypatch.undo()
    async with backend.open() as store:
        known, unknown = await store.get_job(1), await store.get_job(2)
    assert backend.schema_version() == len(shipped)
    assert known is not None and known.unit_price == pytest.approx(0.3)
    assert unknown is not None and unknown.unit_price is None
    assert known.clip_path is None and known.spec.ratio is None
