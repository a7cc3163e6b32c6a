"""The polling policy: look-ahead spacing, caps, the hedged belief and its learning."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from core import polling
from core.polling import Belief, Forecast, Pacing, forecast, look_delay, observe

LEARNED = Forecast(90.0, 0.25)  # a well-learned key: the emulator's wan2.6-i2v-flash
PACE = Pacing()


def sqrt_hazard_integral(fc: Forecast, start: float, end: float, steps: int = 4000) -> float:
    """∫ √h from ``start`` to ``end`` by a fine midpoint rule, independent of the module's."""
    dt = (end - start) / steps
    return sum(math.sqrt(fc.hazard(start + (i + 0.5) * dt)) * dt for i in range(steps))


def check_times(fc: Forecast, pacing: Pacing, until: float) -> list[float]:
    times, t = [0.0], 0.0
    while t < until:
        t += polling.next_delay(fc, t, pacing)
        times.append(t)
    return times


# ---------------------------------------------------------------------- look-ahead spacing
def test_consecutive_checks_are_a_constant_integral_of_root_hazard_apart() -> None:
    pacing = Pacing(floor=0.0, ceiling=1e6)
    times = check_times(LEARNED, pacing, 200.0)
    target = pacing.spacing(LEARNED)
    gaps = [sqrt_hazard_integral(LEARNED, a, b) for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 8
    for gap in gaps:
        assert gap == pytest.approx(target, rel=0.02)


def test_a_check_taken_while_the_hazard_rises_does_not_jump_the_finish_window() -> None:
    # the old rule put the next check spacing/√h(now) ahead, h read now; before the median the
    # hazard is still rising, so that overshoots: the integral over it exceeds the spacing
    spacing = PACE.spacing(LEARNED)
    for elapsed in (40.0, 50.0, 60.0):
        ahead = look_delay([(LEARNED, elapsed)], PACE)
        read_now = spacing / math.sqrt(LEARNED.hazard(elapsed))
        assert ahead < read_now
        assert sqrt_hazard_integral(LEARNED, elapsed, elapsed + read_now) > 1.1 * spacing
    # early on the old rule waits more than twice as long, past a quarter of all completions
    early = spacing / math.sqrt(LEARNED.hazard(40.0))
    assert early > 2 * look_delay([(LEARNED, 40.0)], PACE)
    assert LEARNED.survival(40.0 + early) < 0.8


def test_first_check_lands_where_completions_begin_not_at_the_start() -> None:
    first = polling.first_delay(LEARNED, PACE)
    assert LEARNED.quantile(0.001) < first < LEARNED.median
    # a broad belief (nothing learned) looks much earlier
    assert polling.first_delay(forecast(90.0, None), PACE) < first / 2


def test_spacing_follows_the_target_lag_and_the_forecasts_effort() -> None:
    assert PACE.spacing(LEARNED) == pytest.approx(2 * PACE.lag / LEARNED.effort())
    broad = Forecast(90.0, 0.8)
    assert broad.effort() > LEARNED.effort()
    assert PACE.spacing(broad) < PACE.spacing(LEARNED)


def test_effort_is_the_integral_of_root_f_times_survival_and_scales_with_root_median() -> None:
    lo, hi, steps = 1.0, 400.0, 40_000
    dt = (hi - lo) / steps
    integral = sum(
        math.sqrt(LEARNED.density(t) * LEARNED.survival(t)) * dt
        for t in (lo + (i + 0.5) * dt for i in range(steps))
    )
    assert LEARNED.effort() == pytest.approx(integral, rel=1e-3)
    # the README's corrected bound for median 90 s, σ 0.25 is 20.4 s
    assert LEARNED.effort() ** 2 / 2 == pytest.approx(20.4, abs=0.1)
    assert Forecast(360.0, 0.25).effort() == pytest.approx(2 * LEARNED.effort(), rel=1e-9)


# ---------------------------------------------------------------------- floors, ceilings, caps
@pytest.mark.parametrize("elapsed", [0.0, 0.5, 3.0, 10.0, 30.0, 90.0, 150.0, 400.0, 5000.0])
def test_a_list_sweep_never_outgrows_its_oldest_tasks_elapsed_time(elapsed: float) -> None:
    cold = forecast(90.0, None)
    tasks = [(cold, elapsed), (cold, elapsed / 3)]
    delay = look_delay(tasks, PACE)
    assert PACE.floor <= delay <= max(PACE.floor, PACE.stretch * elapsed) + 1e-9
    assert delay <= PACE.ceiling


def test_a_lone_task_is_bounded_by_floor_and_ceiling_only() -> None:
    # a lone task may wait longer than stretch × elapsed: its first look lands near completions
    assert polling.first_delay(LEARNED, PACE) > PACE.stretch * 1.0
    eager = Pacing(lag=0.05)  # a lag target finer than the floor: the floor holds
    assert polling.next_delay(LEARNED, 90.0, eager) == eager.floor
    silent = Forecast(1e5, 0.1)  # nothing expected for a day: the ceiling holds
    assert polling.next_delay(silent, 5.0, PACE) == PACE.ceiling


@pytest.mark.parametrize("elapsed", [1e6, 1e9])
def test_huge_elapsed_gives_a_finite_interval(elapsed: float) -> None:
    for fc in (LEARNED, forecast(90.0, None), Forecast(90.0, 0.25, hedge=0.0)):
        assert PACE.floor <= polling.next_delay(fc, elapsed, PACE) <= PACE.ceiling
        assert math.isfinite(fc.hazard(elapsed)) and fc.hazard(elapsed) > 0


def test_negative_elapsed_counts_as_just_created() -> None:
    assert polling.next_delay(LEARNED, -5.0, PACE) == polling.first_delay(LEARNED, PACE)


# ---------------------------------------------------------------------- several tasks, one list
def test_n_identical_tasks_at_the_per_task_target_are_swept_like_one() -> None:
    # summed hazard N·h with spacing √N·K integrates to the same gap as one task
    pacing = Pacing(list_lag=PACE.lag)
    one = look_delay([(LEARNED, 70.0)], pacing)
    for n in (2, 5, 12):
        assert look_delay([(LEARNED, 70.0)] * n, pacing) == pytest.approx(one, rel=0.02)


def test_a_task_near_its_finish_brings_the_sweep_forward() -> None:
    young = [(LEARNED, 30.0), (LEARNED, 40.0)]  # the cap: 0.25 × 40 s = 10 s
    with_hot = [*young, (LEARNED, 95.0)]
    assert look_delay(young, PACE) == pytest.approx(PACE.stretch * 40.0)
    assert look_delay(with_hot, PACE) < 0.5 * look_delay(young, PACE)
    # without the cap the summed hazard alone does it
    free = Pacing(stretch=math.inf)
    assert look_delay(with_hot, free) < 0.25 * look_delay(young, free)


def test_the_list_is_for_two_or_more_tasks() -> None:
    assert [polling.use_list(n) for n in (0, 1, 2, 5)] == [False, False, True, True]


def test_safety_check_waits_past_the_98th_percentile_then_repeats() -> None:
    start = LEARNED.quantile(0.98) + 5.0
    assert polling.safety_delay(LEARNED, 10.0, 30.0) == pytest.approx(start - 10.0)
    assert polling.safety_delay(LEARNED, start + 1.0, 30.0) == 30.0


# ---------------------------------------------------------------------- the belief
def test_without_samples_the_forecast_is_broad_and_centred_on_the_catalog() -> None:
    cold = forecast(90.0, None)
    assert cold.median == pytest.approx(90.0)
    # a task 4× shorter or 3× longer than the catalog is well inside the cold forecast
    assert cold.quantile(0.05) < 90.0 / 4 and cold.quantile(0.95) > 90.0 * 3


def test_one_completion_pulls_the_belief_most_of_the_way_at_once() -> None:
    learned = forecast(90.0, observe(None, 20.0, 90.0))
    moved = math.log(90.0 / learned.median) / math.log(90.0 / 20.0)
    assert moved > 0.75
    assert learned.sigma < forecast(90.0, None).sigma


def test_learning_converges_on_the_true_median_and_spread() -> None:
    rng = random.Random(3)
    belief: Belief | None = None
    sigmas = []
    for _ in range(40):
        belief = observe(belief, 20.0 * math.exp(0.25 * rng.gauss(0, 1)), 90.0)
        sigmas.append(forecast(90.0, belief).sigma)
    final = forecast(90.0, belief)
    assert final.median == pytest.approx(20.0, rel=0.12)
    assert 0.18 < final.sigma < 0.33
    assert sigmas[4] < 0.42  # the spread is close within five samples
    assert final.hedge == pytest.approx(polling.HEDGE_FLOOR)


def test_the_window_caps_how_much_history_counts() -> None:
    many = Belief(500, math.log(60.0), 0.04)
    window = Belief(polling.WINDOW, math.log(60.0), 0.04)
    assert forecast(90.0, many) == forecast(90.0, window)


def test_a_surprising_observation_makes_the_belief_forget_its_history() -> None:
    belief: Belief | None = None
    for seconds in [90.0] * 20:
        belief = observe(belief, seconds * 1.01, 90.0)
    assert belief is not None and belief.samples == 20
    fast = observe(belief, 20.0, 90.0)
    assert fast.samples == polling.SURPRISE_KEEP + 1
    # with the history kept the mean would move 1/WINDOW of the way; it moves a third
    assert math.exp(fast.log_mean) < 90.0 * (20.0 / 90.0) ** 0.3
    near = observe(belief, 95.0, 90.0)
    assert near.samples == 21


def test_identical_samples_do_not_collapse_the_spread() -> None:
    belief: Belief | None = None
    for _ in range(100):
        belief = observe(belief, 42.0, 90.0)
    fc = forecast(90.0, belief)
    assert fc.sigma >= polling.MIN_SIGMA
    assert PACE.floor <= polling.next_delay(fc, 40.0, PACE) <= PACE.ceiling


def test_non_positive_durations_are_clamped_not_fatal() -> None:
    belief = observe(None, 0.0, 90.0)
    assert math.isfinite(belief.log_mean)


def test_degenerate_forecasts_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="positive median"):
        Forecast(90.0, 0.0)
    with pytest.raises(ValueError, match="positive median"):
        Forecast(0.0, 0.25)
    with pytest.raises(ValueError, match="hedge weight"):
        Forecast(90.0, 0.25, hedge=1.5)
    with pytest.raises(ValueError, match="0 < p < 1"):
        LEARNED.quantile(1.0)


def test_the_mixture_hazard_is_density_over_survival() -> None:
    fc = Forecast(60.0, 0.3, hedge=0.2)
    for t in (10.0, 60.0, 120.0):
        assert fc.hazard(t) == pytest.approx(fc.density(t) / fc.survival(t))
    assert fc.hazard(0.0) == 0.0 and fc.survival(0.0) == 1.0
    assert fc.survival(fc.quantile(0.3)) == pytest.approx(0.7, abs=1e-6)
