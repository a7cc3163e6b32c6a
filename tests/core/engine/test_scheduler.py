"""The engine's pure scheduling pieces, directly: rate window, check interval, combined hazard,
backoff."""

from __future__ import annotations

import math
import random

import pytest

from core.domain.durations import Expectation
from core.engine.scheduler import RateWindow, backoff, check_interval, combined_hazard


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


def test_check_interval_is_c_over_root_hazard_clamped() -> None:
    assert check_interval(0.0, coefficient=0.7, floor=1.0, ceiling=20.0) == 20.0
    assert check_interval(0.01, coefficient=0.7, floor=1.0, ceiling=20.0) == pytest.approx(7.0)
    assert check_interval(100.0, coefficient=0.7, floor=1.0, ceiling=20.0) == 1.0
    assert check_interval(1e-9, coefficient=0.7, floor=1.0, ceiling=20.0) == 20.0


def test_the_combined_hazard_of_independent_tasks_is_their_sum() -> None:
    exp = Expectation(median=90.0, log_sigma=0.25)
    one = exp.hazard(80.0)
    assert combined_hazard([]) == 0.0
    assert combined_hazard([(exp, 80.0)]) == pytest.approx(one)
    assert combined_hazard([(exp, 80.0)] * 3) == pytest.approx(3 * one)
    # more tasks near their end → a higher rate → shorter sweep interval
    many = check_interval(combined_hazard([(exp, 80.0)] * 5), coefficient=0.7, floor=0.1,
                          ceiling=20.0)  # fmt: skip
    few = check_interval(one, coefficient=0.7, floor=0.1, ceiling=20.0)
    assert many == pytest.approx(few / math.sqrt(5))


def test_the_hazard_rises_towards_the_expected_end() -> None:
    exp = Expectation(median=90.0, log_sigma=0.25)
    assert exp.hazard(0.0) == 0.0
    assert exp.hazard(30.0) < exp.hazard(80.0) < exp.hazard(120.0)
    assert exp.hazard(1000.0) > 0  # deep in the tail it stays finite and positive
    assert exp.quantile(0.5) == pytest.approx(90.0, rel=1e-3)
    assert exp.quantile(0.1) < exp.quantile(0.9)


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 12])
def test_backoff_doubles_with_jitter_under_the_cap(attempt: int) -> None:
    rng = random.Random(attempt)
    delays = [backoff(attempt, base=2.0, cap=300.0, rng=rng) for _ in range(50)]
    nominal = min(300.0, 2.0 * 2 ** (attempt - 1))
    assert all(0.8 * nominal <= d <= min(300.0, 1.2 * nominal) for d in delays)
    assert max(delays) <= 300.0
