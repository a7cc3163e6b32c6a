"""The account's rate windows and pauses in PostgreSQL, shared by every worker process.

DashScope counts an account's submits per model and its task queries per rolling second,
whatever process sends them, so the windows live in the database: one row per event in
``limiter_events``. Taking an event is one short transaction under the key's advisory lock:
count the live events, prune the old ones, insert the new one if there is room. Each process
takes the lock before counting, so two processes never both take the last place in a window.
Times are the engine's (``now`` is a parameter): every process compares like with like, and
fake clocks drive it in tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import _pglocks
from storage._columns import utc
from storage._pgrows import Pool

_TAKE = """
WITH live AS (
    SELECT count(*) AS n, min(at) AS first FROM limiter_events
    WHERE key = %(key)s AND at > %(since)s
), pruned AS (
    DELETE FROM limiter_events WHERE key = %(key)s AND at <= %(since)s
), taken AS (
    INSERT INTO limiter_events (key, at) SELECT %(key)s, %(now)s FROM live WHERE n < %(limit)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM taken), (SELECT first FROM live)
"""


class PostgresLimits:
    """``core.ports.AccountLimits`` over the store's pool."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def take(self, key: str, now: datetime, *, limit: int, window: float) -> datetime | None:
        since = now - timedelta(seconds=window)
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_pglocks.LIMITER, key)
            )
            cur = await conn.execute(
                _TAKE, {"key": key, "since": since, "now": now, "limit": limit}
            )
            row = await cur.fetchone()
        assert row is not None  # noqa: S101 - a SELECT of two scalars always yields one row
        taken, first = int(row[0]), utc(row[1])
        if taken:
            return None
        # full: free again when the oldest live event leaves the window
        return (first or now) + timedelta(seconds=window)

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
