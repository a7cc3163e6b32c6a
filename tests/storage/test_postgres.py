"""What only the PostgreSQL store has to prove: several processes on one database.

Races are made deterministic with the server's own locks: a test holds a "gate" advisory lock
that a trigger waits for, watches ``pg_locks`` until the contenders are where the race needs
them, then opens the gate. A second store (its own pool) stands in for a second process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psycopg
import pytest
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow

from core.domain.jobs import ACTIVE, ChatRef, JobStatus
from core.domain.quota import Limits, Quota
from storage import _pglocks
from storage._pgmigrate import migrations
from storage.postgres import PostgresJobStore
from tests.core.fakes import T0
from tests.storage.test_contract import record

#: the test's own advisory lock (two-int4 form; the app's classes start at 0x616E6D01)
GATE = (1, 1)
_GATE_TRIGGER = f"""
CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_lock_shared({GATE[0]}, {GATE[1]});
    PERFORM pg_advisory_unlock_shared({GATE[0]}, {GATE[1]});
    RETURN NEW;
END $$;
CREATE TRIGGER gate BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION gate();
"""


Conn = AsyncConnection[TupleRow]


async def _raw(url: str) -> Conn:
    return await AsyncConnection.connect(url, autocommit=True)


async def _waiting(conn: Conn, classid: int, objid: int | None = None) -> int:
    """How many sessions of this database wait for an advisory lock of ``classid`` (and
    ``objid``, if given)."""
    cur = await conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND objsubid = 2 AND classid = %s AND (%s::bigint IS NULL OR objid = %s::bigint)",
        (classid, objid, objid),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _until(what: str, check: Callable[[], Awaitable[bool]], deadline: float = 10.0) -> None:
    """Poll ``check()`` until true: waits for a state, never for a duration."""
    end = time.monotonic() + deadline
    while not await check():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@asynccontextmanager
async def _gate(url: str) -> AsyncIterator[Conn]:
    """Inserts into ``jobs`` block until the block ends (the lock is held meanwhile)."""
    async with await _raw(url) as conn:  # closing it releases the session lock
        await conn.execute(_GATE_TRIGGER)
        await conn.execute("SELECT pg_advisory_lock(%s, %s)", GATE)
        yield conn


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    """Both wait for the migration lock; the first to get it migrates, the other finds the
    schema current (without the lock, the second CREATE TABLE fails)."""
    async with await _raw(pg_url) as held:
        async with held.transaction():
            await held.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_pglocks.MIGRATE,))
            opening = [asyncio.create_task(_open_and_count(pg_url)) for _ in range(2)]

            async def both_queued() -> bool:
                return await _waiting(held, _pglocks.MIGRATE, 0) == 2

            await _until("both to queue on the migration lock", both_queued)
        assert await asyncio.gather(*opening) == [0, 0]
        cur = await held.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in await cur.fetchall()] == [v for v, _, _ in migrations()]


async def _open_and_count(url: str) -> int:
    async with PostgresJobStore.open(url) as store:
        return await store.count_active("discord", "u", ACTIVE)


async def test_two_processes_cannot_both_take_the_last_place(pg_url: str) -> None:
    """Both inserts are held just before their row goes in: with the per-user lock only one
    got that far (the other waits for the lock, then counts the first one's row)."""
    cap = Quota("discord", "u", "g", T0, "CNY", Limits(active_jobs=2))
    async with PostgresJobStore.open(pg_url) as a, PostgresJobStore.open(pg_url) as b:
        await a.insert_job(record(status=JobStatus.RUNNING))
        async with _gate(pg_url) as gate:
            racing = [asyncio.create_task(s.insert_job_within(record(), cap)) for s in (a, b)]

            async def both_held() -> bool:
                # at the gate (counted, row about to go in) or queued for the user's lock
                held = await _waiting(gate, *GATE) + await _waiting(gate, _pglocks.USER_CAP)
                return held == 2

            await _until("both inserts to be held", both_held)
        results = await asyncio.gather(*racing)
        assert sum(r is not None for r in results) == 1
        assert await a.count_active("discord", "u", ACTIVE) == 2


async def test_two_members_cannot_both_take_the_servers_last_yuan(pg_url: str) -> None:
    """Two users of one server (different user locks) race for the budget's last place: the
    server's lock makes the second count the first one's row."""
    alice, bob = (ChatRef("discord", u, "c", guild="g") for u in ("alice", "bob"))
    budget = Limits(monthly_budget=1.0)
    async with PostgresJobStore.open(pg_url) as a, PostgresJobStore.open(pg_url) as b:
        async with _gate(pg_url) as gate:
            racing = [
                asyncio.create_task(
                    s.insert_job_within(
                        record(chat=who, cost_estimate=0.75), Quota.of(who, budget, T0, "CNY")
                    )
                )
                for s, who in ((a, alice), (b, bob))
            ]

            async def both_held() -> bool:
                held = await _waiting(gate, *GATE) + await _waiting(gate, _pglocks.GUILD_BUDGET)
                return held == 2

            await _until("both inserts to be held", both_held)
        results = await asyncio.gather(*racing)
        assert sum(r is not None for r in results) == 1


async def test_a_durable_save_commits_synchronously_even_when_the_server_does_not(
    pg_url: str,
) -> None:
    """With ``synchronous_commit = off`` (an operator's throughput setting) a durable save
    turns it back on for its own transaction only; the ordinary save after it stays async."""
    dbname = conninfo_to_dict(pg_url)["dbname"]
    with psycopg.connect(pg_url, autocommit=True) as raw:
        raw.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                sql.Identifier(str(dbname))
            )
        )
    async with PostgresJobStore.open(pg_url) as store:
        with psycopg.connect(pg_url, autocommit=True) as raw:
            raw.execute(
                "CREATE TABLE seen (n serial, setting text);"
                "CREATE FUNCTION seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " INSERT INTO seen (setting) VALUES (current_setting('synchronous_commit'));"
                " RETURN NEW; END $$;"
                "CREATE TRIGGER seen BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION seen();"
            )
        job = await store.insert_job(record())
        sending = await store.save(
            job, dataclasses.replace(job, status=JobStatus.SUBMITTING), durable=True
        )
        assert sending is not None
        assert await store.save(sending, dataclasses.replace(sending, attempts=1)) is not None
        with psycopg.connect(pg_url, autocommit=True) as raw:
            seen = [r[0] for r in raw.execute("SELECT setting FROM seen ORDER BY n").fetchall()]
    assert seen == ["on", "off"]


async def test_the_pool_never_holds_more_connections_than_its_size(pg_url: str) -> None:
    """Six concurrent inserts on a pool of two: two reach the server (held at the gate), the
    rest wait for a connection; all finish once the gate opens; closing returns them all."""
    async with await _raw(pg_url) as watch:

        async def sessions() -> int:
            cur = await watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            row = await cur.fetchone()
            return int(row[0]) if row else -1

        async with PostgresJobStore.open(pg_url, min_size=1, max_size=2) as store:
            async with _gate(pg_url) as gate:
                inserts = [asyncio.create_task(store.insert_job(record())) for _ in range(6)]

                async def two_held() -> bool:
                    return await _waiting(gate, *GATE) == 2

                await _until("two inserts at the gate", two_held)
                assert await sessions() == 3  # the pool's two and the gate's own
            done = await asyncio.gather(*inserts)
            assert len({j.id for j in done}) == 6
            assert await sessions() <= 2

        async def all_closed() -> bool:  # a backend exits a moment after its client hangs up
            return await sessions() == 0

        await _until("the pool's connections to close", all_closed)


async def test_connections_the_server_dropped_are_replaced_not_used(pg_url: str) -> None:
    """A server restart or an idle timeout kills pooled connections: the next call gets a
    fresh one instead of failing."""
    async with PostgresJobStore.open(pg_url, min_size=2, max_size=2) as store:
        job = await store.insert_job(record())
        async with await _raw(pg_url) as admin:
            cur = await admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            row = await cur.fetchone()
            assert row is not None and row[0] == 2
        assert await store.get_job(job.id) == job
        assert await store.count_active("discord", "u", ACTIVE) == 1


@pytest.mark.parametrize(("min_size", "max_size"), [(0, 4), (3, 2)])
async def test_impossible_pool_sizes_are_refused(pg_url: str, min_size: int, max_size: int) -> None:
    with pytest.raises(ValueError, match="min_size <= max_size"):
        async with PostgresJobStore.open(pg_url, min_size=min_size, max_size=max_size):
            pass


async def test_a_missing_database_fails_with_the_servers_message(pg_url: str) -> None:
    gone = make_conninfo(pg_url, dbname="no_such_database")
    with pytest.raises(psycopg.OperationalError, match='"no_such_database" does not exist'):
        async with PostgresJobStore.open(gone):
            pass


async def test_a_version_1_database_is_upgraded_in_place(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written before ``fill``, ``version`` and the hardening columns read back with
    their defaults."""
    import storage._pgmigrate as m

    shipped = m.migrations()
    monkeypatch.setattr(m, "migrations", lambda: shipped[:1])
    async with PostgresJobStore.open(pg_url):
        pass
    with psycopg.connect(pg_url, autocommit=True) as raw:
        raw.execute(
            "INSERT INTO jobs (status, region, model, resolution, duration, prompt_extend,"
            " watermark, sound, aspect, platform, user_id, channel_id, locale, created_at,"
            " updated_at, currency) VALUES ('queued', 'cn-beijing', 'wan2.6-i2v-flash', '720P',"
            " 5, true, false, true, '16:9', 'discord', 'u', 'c', 'en-US', 'epoch', 'epoch', 'CNY')"
        )
    monkeypatch.undo()
    async with PostgresJobStore.open(pg_url) as store:
        got = await store.get_job(1)
    assert got is not None and (got.spec.aspect, got.spec.fill) == ("16:9", "crop")
    assert (got.version, got.resubmits, got.audio_url) == (0, 0, None)
    with psycopg.connect(pg_url, autocommit=True) as raw:
        row = raw.execute("SELECT max(version) FROM schema_migrations").fetchone()
    assert row is not None and row[0] == len(shipped) >= 4
