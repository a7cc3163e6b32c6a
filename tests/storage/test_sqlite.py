"""The SQLite store on real files: migrations, round trips, conditional writes, indexed queries."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.domain.durations import DurationKey, DurationStats
from core.domain.jobs import ACTIVE, ChatRef, JobSpec, JobStatus
from core.domain.policy import ActiveCap
from core.domain.records import JobRecord, transition
from core.rows import update
from storage.migrate import migrations
from storage.sqlite import SqliteJobStore
from tests.core.fakes import T0


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


async def test_migrations_set_user_version_and_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "a.db"
    async with SqliteJobStore.open(path) as store:
        await store.insert_job(record())
    async with SqliteJobStore.open(path) as store:
        assert await store.get_job(1) is not None
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(migrations())
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_round_trip_keeps_every_field_and_aware_times(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
        full = record(
            spec=JobSpec("wan2.6-i2v", "p", "1080P", 10, "neg", 7, False, True, False, None, "1:1"),
            chat=ChatRef("discord", "u", "c", None, "t", "m", "zh-CN"),
            task_id="t-1",
            next_at=T0 + timedelta(seconds=1.5),
            video_url_expires_at=T0 + timedelta(days=1),
            usage_seconds=10.0,
            cost=10.0,
            media_purged=True,
            parent_job_id=None,
            audio_url="oss://dashscope-instant/x/a.mp3",
            audio_url_expires_at=T0 + timedelta(hours=48),
            fit_limit=10_485_760,
            fit_path="/m/videos/job-1-fit-10485760.mp4",
            resubmits=1,
        )
        saved = await store.insert_job(full)
        got = await store.get_job(saved.id)
        assert got == saved
        assert got is not None and got.next_at is not None and got.next_at.tzinfo is not None


async def test_save_compares_and_bumps_the_version_and_writes_only_changes(
    tmp_path: Path,
) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
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


async def test_update_reapplies_a_stale_change_on_the_fresh_row(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
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


async def test_update_gives_up_when_the_row_moved_to_another_status(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
        job = await store.insert_job(record(status=JobStatus.QUEUED))
        await store.save(job, dataclasses.replace(job, status=JobStatus.CANCELED))
        saved = await update(store, job, lambda j: transition(j, JobStatus.SUBMITTING, T0))
        assert saved is None
        got = await store.get_job(job.id)
        assert got is not None and got.status is JobStatus.CANCELED


async def test_due_query_uses_the_index_and_orders_by_time(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
        for i in range(5):
            await store.insert_job(
                record(
                    status=JobStatus.RUNNING, next_at=T0 + timedelta(seconds=5 - i), task_id=f"t{i}"
                )
            )
        await store.insert_job(record(status=JobStatus.QUEUED, next_at=T0))
        due = await store.due_jobs(T0 + timedelta(seconds=3), [JobStatus.RUNNING], limit=10)
        assert [j.task_id for j in due] == ["t4", "t3", "t2"]
        async with store.connection.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE next_at IS NOT NULL AND next_at <= 1 "
            "AND status IN ('running') ORDER BY next_at LIMIT 5"
        ) as cur:
            plan = " ".join(str(r[3]) for r in await cur.fetchall())
        assert "jobs_due" in plan and "SCAN" not in plan
        assert await store.next_due([JobStatus.RUNNING]) == T0 + timedelta(seconds=1)
        assert await store.in_flight_counts([JobStatus.RUNNING]) == {"wan2.6-i2v-flash": 5}
        assert await store.claimed_task_ids(["t1", "zz"]) == {"t1"}


async def test_task_id_is_unique(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
        await store.insert_job(record(task_id="same"))
        with pytest.raises(sqlite3.IntegrityError):
            await store.insert_job(record(task_id="same"))


async def test_duration_stats_upsert(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
        key = DurationKey("wan2.6-i2v-flash", "720P", 5)
        assert await store.get_duration_stats(key) is None
        await store.save_duration_stats(key, DurationStats(1, 4.0, 0.1), T0)
        await store.save_duration_stats(key, DurationStats(2, 4.2, 0.05), T0)
        assert await store.get_duration_stats(key) == DurationStats(2, 4.2, 0.05)


async def test_failed_migration_leaves_the_database_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.migrate as m

    good = m.migrations()
    monkeypatch.setattr(
        m,
        "migrations",
        lambda: [*good, (len(good) + 1, "9999_bad.sql", "CREATE TABLE x (; nonsense")],
    )
    with pytest.raises(sqlite3.OperationalError):
        async with SqliteJobStore.open(tmp_path / "a.db"):
            pass
    with sqlite3.connect(tmp_path / "a.db") as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 0
        assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'jobs'").fetchone() is None


async def test_fill_column_from_migration_2_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    spec = JobSpec(
        model="wan2.6-i2v-flash",
        prompt="p",
        resolution="720P",
        duration=5,
        aspect="1:1",
        fill="blur",
    )
    async with SqliteJobStore.open(path) as store:
        job = await store.insert_job(record(spec=spec))
        got = await store.get_job(job.id)
    assert got is not None and (got.spec.aspect, got.spec.fill) == ("1:1", "blur")


async def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """Rows written before ``fill`` existed read back as the old behaviour (centre crop)."""
    path = tmp_path / "old.db"
    (_, _, first_sql), *_ = migrations()
    with sqlite3.connect(path) as raw:
        raw.executescript(first_sql)
        raw.execute(
            "INSERT INTO jobs (status, region, model, resolution, duration, prompt_extend,"
            " watermark, sound, aspect, platform, user_id, channel_id, locale, created_at,"
            " updated_at, currency) VALUES ('queued', 'cn-beijing', 'wan2.6-i2v-flash', '720P',"
            " 5, 1, 0, 1, '16:9', 'discord', 'u', 'c', 'en-US', 0, 0, 'CNY')"
        )
        raw.execute("PRAGMA user_version = 1")
    async with SqliteJobStore.open(path) as store:
        got = await store.get_job(1)
    assert got is not None and (got.spec.aspect, got.spec.fill) == ("16:9", "crop")
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(migrations()) >= 2


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    """A downgraded binary must not run against a schema it does not know."""
    path = tmp_path / "future.db"
    async with SqliteJobStore.open(path):
        pass
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {len(migrations()) + 1}")
    with pytest.raises(RuntimeError, match="newer than this code"):
        async with SqliteJobStore.open(path):
            pass


async def test_the_capped_insert_is_one_atomic_step_even_across_connections(
    tmp_path: Path,
) -> None:
    """Issue 8.4: two requests at once (two processes, here two connections) cannot both take
    the last place; finished jobs and other users do not count."""
    path = tmp_path / "a.db"
    cap = ActiveCap(3, ACTIVE)
    async with SqliteJobStore.open(path) as a, SqliteJobStore.open(path) as b:
        await a.insert_job(record(status=JobStatus.RUNNING))
        await a.insert_job(record(status=JobStatus.DELIVERED))
        await a.insert_job(record(chat=ChatRef("discord", "someone-else", "c")))
        results = await asyncio.gather(*(s.insert_job_within(record(), cap) for s in (a, b) * 5))
        assert sum(r is not None for r in results) == 2
        assert await b.count_active("discord", "u", ACTIVE) == 3
        assert await b.count_active("discord", "someone-else", ACTIVE) == 1
        ids = sorted(r.id for r in results if r is not None)
        assert [j.id for j in await a.jobs_with_status([JobStatus.QUEUED])][-2:] == ids
        async with a.connection.execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM jobs WHERE platform = 'discord' "
            "AND user_id = 'u' AND status IN ('queued', 'running')"
        ) as cur:
            plan = " ".join(str(r[3]) for r in await cur.fetchall())
        assert "jobs_user_status" in plan


async def test_a_durable_save_is_synced_and_only_it(tmp_path: Path) -> None:
    """Issue 8.13: the create marker (SUBMITTING) must survive a power cut: its commit runs
    under synchronous=FULL; ordinary writes keep the cheaper NORMAL."""
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
        job = await store.insert_job(record())
        statements: list[str] = []
        await store.connection.set_trace_callback(statements.append)
        sending = await store.save(
            job, dataclasses.replace(job, status=JobStatus.SUBMITTING), durable=True
        )
        assert sending is not None
        await store.save(sending, dataclasses.replace(sending, attempts=1))
        await store.connection.set_trace_callback(lambda _: None)
        update_at = [i for i, s in enumerate(statements) if s.startswith("UPDATE jobs")]
        assert len(update_at) == 2
        durable, ordinary = update_at
        modes = [
            (i, s.split("=")[1].strip())
            for i, s in enumerate(statements)
            if s.startswith("PRAGMA synchronous")
        ]
        assert [m for i, m in modes if i < durable][-1:] == ["FULL"]
        assert [m for i, m in modes if durable < i < ordinary] == ["NORMAL"]
        async with store.connection.execute("PRAGMA synchronous") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 1  # NORMAL again afterwards


async def test_uploads_due_and_referenced_files(tmp_path: Path) -> None:
    async with SqliteJobStore.open(tmp_path / "a.db") as store:
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
        assert {"/i/a.mp3", "/i/c.png", "/i/e.mp3"} <= await store.referenced_files()
