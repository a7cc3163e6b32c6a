"""Several worker processes on one PostgreSQL database: claims that never wait for each other,
the last slot and the last place in a rate window taken once, and new-work notifications.

Races are held open with the technique of ``test_postgres``: a trigger waits for the test's
"gate" advisory lock while the contenders are placed; a second store (its own pool) stands in
for a second process.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from core.domain.jobs import SLOT_STATUSES, JobStatus
from core.ports import Lease, SlotCap
from storage import _pglocks, _pgnotify
from storage.postgres import PostgresJobStore
from tests.core.fakes import T0
from tests.storage.test_contract import record
from tests.storage.test_postgres import GATE, Conn, _raw, _until, _waiting

_S = JobStatus
LIFE = timedelta(seconds=20)


def _gate_on(event: str, table: str) -> str:
    return f"""
CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_lock_shared({GATE[0]}, {GATE[1]});
    PERFORM pg_advisory_unlock_shared({GATE[0]}, {GATE[1]});
    RETURN NEW;
END $$;
CREATE TRIGGER gate BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION gate();
"""


@asynccontextmanager
async def _gate(url: str, event: str, table: str = "jobs") -> AsyncIterator[Conn]:
    """``event`` on ``table`` blocks (holding what its transaction took) until the block ends."""
    async with await _raw(url) as conn:
        await conn.execute(_gate_on(event, table))
        await conn.execute("SELECT pg_advisory_lock(%s, %s)", GATE)
        yield conn


async def test_a_claim_skips_rows_another_claim_is_taking_instead_of_waiting(
    pg_url: str,
) -> None:
    async with PostgresJobStore.open(pg_url) as a, PostgresJobStore.open(pg_url) as b:
        ids = [
            (await a.insert_job(record(status=_S.RUNNING, task_id=f"t{i}", next_at=T0))).id
            for i in range(4)
        ]
        async with _gate(pg_url, "UPDATE") as gate:
            first = asyncio.create_task(
                a.claim_due(T0, [_S.RUNNING], lease=Lease("A", T0 + LIFE), limit=2)
            )

            async def held() -> bool:
                return await _waiting(gate, *GATE) == 1

            await _until("A's claim to hold its rows at the gate", held)
            second = asyncio.create_task(
                b.claim_due(T0, [_S.RUNNING], lease=Lease("B", T0 + LIFE), limit=10)
            )

            async def both_at_gate() -> bool:
                # B reached the gate with its own rows: it skipped A's locked ones; had it
                # waited for them it would be queued on A's transaction, not here
                return await _waiting(gate, *GATE) == 2

            await _until("B's claim to pass A's rows", both_at_gate)
        mine, theirs = await first, await second
        assert sorted(j.id for j in mine) == ids[:2]
        assert sorted(j.id for j in theirs) == ids[2:]


async def test_two_workers_cannot_both_take_the_last_slot(pg_url: str) -> None:
    cap = SlotCap("wan2.6-i2v-flash", 2, frozenset(SLOT_STATUSES))
    async with PostgresJobStore.open(pg_url) as a, PostgresJobStore.open(pg_url) as b:
        await a.insert_job(record(status=_S.RUNNING, task_id="busy"))
        one, two = await a.insert_job(record()), await a.insert_job(record())
        async with _gate(pg_url, "UPDATE") as gate:
            racing = [
                asyncio.create_task(
                    store.save_within(
                        job,
                        dataclasses.replace(job, status=_S.SUBMITTING),
                        cap,
                        lease=Lease(name, T0 + LIFE),
                        now=T0,
                    )
                )
                for store, job, name in ((a, one, "A"), (b, two, "B"))
            ]

            async def both_held() -> bool:
                # one counted and is writing (at the gate), the other queues for the slot lock
                at_gate = await _waiting(gate, *GATE)
                return at_gate + await _waiting(gate, _pglocks.SLOTS) == 2

            await _until("both writes to be held", both_held)
        results = await asyncio.gather(*racing)
        assert sum(r is not None for r in results) == 1
        assert await a.in_flight_counts(SLOT_STATUSES) == {"wan2.6-i2v-flash": 2}


async def test_the_last_place_in_a_rate_window_goes_to_one_process(pg_url: str) -> None:
    async with PostgresJobStore.open(pg_url) as a, PostgresJobStore.open(pg_url) as b:
        assert await a.limits.take("queries", T0, limit=2, window=1.1) is None
        async with _gate(pg_url, "INSERT", "limiter_events") as gate:
            racing = [
                asyncio.create_task(s.limits.take("queries", T0, limit=2, window=1.1))
                for s in (a, b)
            ]

            async def both_held() -> bool:
                at_gate = await _waiting(gate, *GATE)
                return at_gate + await _waiting(gate, _pglocks.LIMITER) == 2

            await _until("both takes to be held", both_held)
        results = await asyncio.gather(*racing)
        assert sorted(r is None for r in results) == [False, True]


async def test_an_insert_by_any_process_wakes_a_listening_worker(pg_url: str) -> None:
    woken = asyncio.Event()
    listening = asyncio.Event()
    async with PostgresJobStore.open(pg_url) as worker, PostgresJobStore.open(pg_url) as front:
        task = asyncio.create_task(worker.listen(woken.set, listening=listening.set))
        try:
            await asyncio.wait_for(listening.wait(), 10)
            assert not woken.is_set()
            await front.insert_job(record())
            await asyncio.wait_for(woken.wait(), 10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_a_listener_whose_connection_dies_reconnects_and_looks_once(pg_url: str) -> None:
    """Notifications sent while it was away are lost with the session: it wakes the worker
    once when it is back, then keeps listening."""
    wakes: list[int] = []
    listening = asyncio.Queue[int]()
    task = asyncio.create_task(
        _pgnotify.listen(
            pg_url, lambda: wakes.append(1), listening=lambda: listening.put_nowait(1), retry=0.01
        )
    )
    try:
        await asyncio.wait_for(listening.get(), 10)
        async with await _raw(pg_url) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query = %s AND pid <> pg_backend_pid()",
                (f"LISTEN {_pgnotify.CHANNEL}",),
            )
            await asyncio.wait_for(listening.get(), 10)  # back
            assert wakes == [1]
            await admin.execute(f"NOTIFY {_pgnotify.CHANNEL}")

            async def woken_again() -> bool:
                return len(wakes) == 2

            await _until("the notification after the reconnect", woken_again)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
