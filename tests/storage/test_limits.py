"""The account's limits (``core.ports.AccountLimits``) behave alike in memory (one process) and
in PostgreSQL (every process): rolling windows, the time one frees, pauses that never shrink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.engine.limits import LocalLimits
from core.ports import AccountLimits
from storage.postgres import PostgresJobStore
from tests.core.fakes import T0


@pytest.fixture(params=["memory", "postgres"])
async def limits(request: pytest.FixtureRequest) -> AsyncIterator[AccountLimits]:
    if request.param == "memory":
        yield LocalLimits()
        return
    async with PostgresJobStore.open(request.getfixturevalue("pg_url")) as store:
        yield store.limits


def at(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


async def test_a_window_counts_events_and_says_when_one_frees(limits: AccountLimits) -> None:
    taken = [await limits.take("q", T0 + at(i * 0.1), limit=3, window=1.1) for i in range(3)]
    assert taken == [None, None, None]
    # full until the oldest event leaves the window
    assert await limits.take("q", T0 + at(0.5), limit=3, window=1.1) == T0 + at(1.1)
    assert await limits.take("q", T0 + at(1.1), limit=3, window=1.1) is None
    assert await limits.take("q", T0 + at(1.15), limit=3, window=1.1) == T0 + at(1.2)
    # keys are independent
    assert await limits.take("submit:m", T0 + at(0.5), limit=1, window=1.1) is None
    assert await limits.take("submit:m", T0 + at(0.6), limit=1, window=1.1) == T0 + at(1.6)


async def test_pauses_hold_a_key_and_a_later_pause_never_shortens_one(
    limits: AccountLimits,
) -> None:
    assert await limits.pauses(T0) == {}
    await limits.pause("submit:a", T0 + at(30))
    await limits.pause("submit:a", T0 + at(10))
    await limits.pause("submit:b", T0 + at(5))
    assert await limits.pauses(T0) == {"submit:a": T0 + at(30), "submit:b": T0 + at(5)}
    assert await limits.pauses(T0 + at(5)) == {"submit:a": T0 + at(30)}
    await limits.pause("submit:b", T0 + at(60))
    assert await limits.pauses(T0 + at(31)) == {"submit:b": T0 + at(60)}
