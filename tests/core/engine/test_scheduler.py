"""The engine's pure scheduling pieces, directly: rate window and backoff (when to look at
running tasks is ``core.polling``, tested in tests/core/test_polling.py)."""

from __future__ import annotations

import random

import pytest

from core.engine.scheduler import RateWindow, backoff


def test_a_rate_window_allows_limit_events_in_any_window() -> None:
    window = RateWindow(3, 1.0)
    assert [window.take(10.0), window.take(10.1), window.take(10.2)] == [True] * 3
    assert window.take(10.5) is False  # a fourth inside the same second
    assert window.next_free(10.5) == pytest.approx(11.0)  # when the first one leaves
    assert window.take(10.99) is False
    assert window.take(11.0) is True  # the window slides: 10.0 is out
    assert window.take(11.05) is False  # 10.1, 10.2, 11.0 still in


def test_a_rate_window_never_waits_and_refuses_nonsense() -> None:
    window = RateWindow(1, 1.1)
    assert window.next_free(5.0) == 5.0  # empty: free now
    with pytest.raises(ValueError, match="at least 1"):
        RateWindow(0)


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 12])
def test_backoff_doubles_with_jitter_under_the_cap(attempt: int) -> None:
    rng = random.Random(attempt)
    delays = [backoff(attempt, base=2.0, cap=300.0, rng=rng) for _ in range(50)]
    nominal = min(300.0, 2.0 * 2 ** (attempt - 1))
    assert all(0.8 * nominal <= d <= min(300.0, 1.2 * nominal) for d in delays)
    assert max(delays) <= 300.0
