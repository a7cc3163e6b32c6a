"""What only the SQLite store does: its journal mode, synced durable writes, in-place upgrades
of files written by older code. The shared behaviour is in ``test_contract``."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from core.domain.jobs import JobStatus
from storage.migrate import migrations
from storage.sqlite import SqliteJobStore
from tests.storage.test_contract import record


async def test_the_database_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "a.db"
    async with SqliteJobStore.open(path):
        pass
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


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
