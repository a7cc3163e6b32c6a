"""The account's rate windows and pauses in PostgreSQL, shared by every worker process.

DashScope counts an account's submits per model and its task queries per rolling second,
whatever process sends them, so the windows live in the database: one row per event in
``limiter_events``. Taking an event is one call of ``limiter_take`` (migration 0008), one round
trip: under the key's advisory lock it prunes the old events, counts the live ones and inserts
the new one if there is room. Each process takes the lock before counting, so two processes
never both take the last place in a window.
Times are the engine's (``now`` is a parameter): every process compares like with like, and
fake clocks drive it in tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import _pglocks
from storage._columns import utc
from storage._pgrows import Pool


class PostgresLimits:
    """``core.ports.AccountLimits`` over the store's pool."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def take(self, key: str, now: datetime, *, limit: int, window: float) -> datetime | None:
        since = now - timedelta(seconds=window)
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT limiter_take(%s, %s, %s, %s, %s)",
                (key, _pglocks.LIMITER, now, since, limit),
            )
            row = await cur.fetchone()
        first = utc(row[0]) if row is not None else None
        # full: free again when the oldest live event leaves the window
        return None if first is None else first + timedelta(seconds=window)

    async def pause(self, key: str, until: datetime) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO limiter_pauses (key, until) VALUES (%s, %s) ON CONFLICT (key) "
                "DO UPDATE SET until = greatest(limiter_pauses.until, excluded.until)",
                (key, until),
            )

    async def pauses(self, now: datetime) -> dict[str, datetime]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT key, until FROM limiter_pauses WHERE until > %s", (now,)
            )
            return {str(k): until for k, u in await cur.fetchall() if (until := utc(u))}
