"""The account's rate windows and pauses for one process alone: ``AccountLimits`` in memory.

SQLite serves one process (its instance lock), so nothing else talks to DashScope for the
account and the windows can live here; several processes share them through the database
instead (``storage.postgres``). Same rule either way: at most ``limit`` events in any
``window`` seconds (``core.engine.scheduler.RateWindow``), on the engine's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.engine.scheduler import RateWindow


class LocalLimits:
    def __init__(self) -> None:
        self._windows: dict[str, RateWindow] = {}
        self._paused: dict[str, datetime] = {}

    async def take(self, key: str, now: datetime, *, limit: int, window: float) -> datetime | None:
        rates = self._windows.get(key)
        if rates is None:
            rates = self._windows[key] = RateWindow(limit, window)
        at = now.timestamp()
        if rates.take(at):
            return None
        return datetime.fromtimestamp(rates.next_free(at), UTC)

    async def pause(self, key: str, until: datetime) -> None:
        self._paused[key] = max(until, self._paused.get(key, until))

    async def pauses(self, now: datetime) -> dict[str, datetime]:
        return {key: until for key, until in self._paused.items() if until > now}
