"""Polling-policy simulation: ``python -m bench.bench_polling [--tasks 2000] [--seed 1]``.

Pure and seeded: no emulator, no database. Task durations are log-normal (σ = 0.25, as the
emulator draws them); passes run on whole seconds, as the engine bench drives the engine (a
check due at 12.3 s happens at the 13 s pass). On the very same durations it replays

* ``old``: today's policy (main at 7b3b0d5), frozen here so the comparison survives the
  restructure of core/: per-model list sweeps spaced ``0.7/√hazard(now)`` within [1, 20] s,
  the first sweep 1 s after the create, a per-task safety check at the 98th percentile + 5 s
  then every 30 s, one detail query per task a sweep shows finished; log-normal belief with
  prior σ 0.35, one pseudo-sample of prior, EWMA learning;
* ``new``: ``core.polling``: look-ahead spacing on a hedged belief, a lone task polled directly;
* ``sdk``: the official SDK's ``wait()`` (first query at once, then sleeps 1,1,2,2,2,4,4,4,5,…);

and prints queries per task and completion→detection lag (mean / p95) as ratios against the SDK,
with the bound ``queries × mean lag ≥ (∫√(f·S) dt)² / 2`` of the true distribution beside the
isolated figures (``Q·L`` is the product measured).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench._support import sdk_schedule
from core import polling

SIGMA = 0.25  # the emulator's spread of generation times (log-seconds)


# ---------------------------------------------------------------------- baseline and bound
def _lognormal(median: float, sigma: float) -> tuple[Callable[[float], float], ...]:
    def f(t: float) -> float:
        z = math.log(t / median) / sigma
        return math.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * sigma * t)

    def s(t: float) -> float:
        return 0.5 * math.erfc(math.log(t / median) / (sigma * math.sqrt(2)))

    return f, s


def bounds(median: float, sigma: float = SIGMA) -> tuple[float, float]:
    """(README's ``(∫√f)²/2``, corrected ``(∫√(f·S))²/2``) in seconds, by the midpoint rule."""
    f, s = _lognormal(median, sigma)
    lo, hi = median * math.exp(-8 * sigma), median * math.exp(8 * sigma)
    steps = 20_000
    dt = (hi - lo) / steps
    a = b = 0.0
    for i in range(steps):
        t = lo + (i + 0.5) * dt
        a += math.sqrt(f(t)) * dt
        b += math.sqrt(f(t) * s(t)) * dt
    return a * a / 2, b * b / 2


def continuous_schedule(median: float, coefficient: float, durations: Sequence[float]) -> Stats:
    """The issue's 'plain simulation': checks spaced ``c/√hazard(t)`` (true distribution, hazard
    read at each check, no floor, ceiling or pass granularity)."""
    f, s = _lognormal(median, SIGMA)
    checks, t = [], 0.0
    limit = max(durations)
    while t <= limit:
        h = f(t) / max(s(t), 1e-300) if t > 0 else 0.0
        t += min(coefficient / math.sqrt(h), 60.0) if h > 0 else 1.0
        checks.append(t)
    out = Stats()
    for d in durations:
        k = next(i for i, c in enumerate(checks) if c >= d)
        out.add(k + 1, checks[k] - d)
    return out


@dataclass
class Stats:
    """Queries and completion→detection lags of a set of tasks."""

    queries: int = 0
    lags: list[float] = field(default_factory=list)
    #: slot-seconds the server worked while jobs waited locally, over what the slots offered
    utilisation: float = math.nan

    def add(self, queries: int, lag: float) -> None:
        self.queries += queries
        self.lags.append(lag)

    def merge(self, other: Stats) -> None:
        self.queries += other.queries
        self.lags.extend(other.lags)

    @property
    def q(self) -> float:
        return self.queries / max(len(self.lags), 1)

    @property
    def lag(self) -> float:
        return statistics.fmean(self.lags)

    @property
    def p95(self) -> float:
        return sorted(self.lags)[max(0, math.ceil(0.95 * len(self.lags)) - 1)]


def sdk_stats(durations: Sequence[float]) -> Stats:
    out = Stats()
    for d in durations:
        out.add(*sdk_schedule(d))
    return out


# ---------------------------------------------------------------------- today's policy, frozen
OLD_PRIOR_SIGMA, OLD_MIN_SIGMA, OLD_EWMA = 0.35, 0.08, 0.1
OLD_COEFFICIENT, OLD_FLOOR, OLD_CEILING, OLD_SAFETY_EVERY = 0.7, 1.0, 20.0, 30.0


@dataclass(frozen=True)
class OldStats:
    samples: int
    log_mean: float
    log_var: float


@dataclass(frozen=True)
class OldExpectation:
    median: float
    sigma: float

    def hazard(self, t: float) -> float:
        if t <= 0:
            return 0.0
        z = (math.log(t) - math.log(self.median)) / self.sigma
        pdf = math.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * self.sigma * t)
        survival = 0.5 * math.erfc(z / math.sqrt(2))
        if survival < 1e-12:
            return z / (self.sigma * t)
        return pdf / survival

    def quantile(self, p: float) -> float:
        lo, hi = -10.0, 10.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
                lo = mid
            else:
                hi = mid
        return self.median * math.exp(self.sigma * (lo + hi) / 2)


def old_expectation(prior: float, stats: OldStats | None) -> OldExpectation:
    if stats is None or stats.samples == 0:
        return OldExpectation(prior, OLD_PRIOR_SIGMA)
    w = stats.samples / (stats.samples + 1)
    log_median = w * stats.log_mean + (1 - w) * math.log(prior)
    var = w * stats.log_var + (1 - w) * OLD_PRIOR_SIGMA**2
    return OldExpectation(math.exp(log_median), max(OLD_MIN_SIGMA, math.sqrt(var)))


def old_learn(stats: OldStats | None, seconds: float) -> OldStats:
    x = math.log(max(seconds, 0.5))
    if stats is None or stats.samples == 0:
        return OldStats(1, x, OLD_PRIOR_SIGMA**2)
    n = stats.samples + 1
    alpha = max(1.0 / n, OLD_EWMA)
    delta = x - stats.log_mean
    var = (1 - alpha) * (stats.log_var + alpha * delta * delta)
    return OldStats(n, stats.log_mean + alpha * delta, var)


def old_interval(hazard: float) -> float:
    if hazard <= 0:
        return OLD_CEILING
    return min(OLD_CEILING, max(OLD_FLOOR, OLD_COEFFICIENT / math.sqrt(hazard)))


# ---------------------------------------------------------------------- policies under test
@dataclass
class Task:
    created: float
    duration: float
    own: float | None = None  # the task's own (safety) check, absolute time

    @property
    def ends(self) -> float:
        return self.created + self.duration


class OldPolicy:
    name = "old"

    def __init__(self, prior: float) -> None:
        self.prior = prior
        self.stats: OldStats | None = None

    def exp(self) -> OldExpectation:
        return old_expectation(self.prior, self.stats)

    def learn(self, seconds: float) -> None:
        self.stats = old_learn(self.stats, seconds)

    def created(self, task: Task, now: float, running: list[Task], look: float | None) -> float:
        task.own = now + self.exp().quantile(0.98) + 5.0
        return now + OLD_FLOOR if look is None else look

    def lists(self, running: int) -> bool:
        return True

    def next_look(self, now: float, running: list[Task]) -> float:
        exp = self.exp()
        return now + old_interval(sum(exp.hazard(now - t.created) for t in running))

    def own_next(self, task: Task, now: float, listed: bool) -> float | None:
        start = self.exp().quantile(0.98) + 5.0
        elapsed = now - task.created
        return now + (start - elapsed if elapsed < start else OLD_SAFETY_EVERY)


class NewPolicy:
    name = "new"

    def __init__(self, prior: float, pacing: polling.Pacing | None = None) -> None:
        self.prior = prior
        self.belief: polling.Belief | None = None
        self.pacing = pacing or polling.Pacing()

    def fc(self) -> polling.Forecast:
        return polling.forecast(self.prior, self.belief)

    def learn(self, seconds: float) -> None:
        self.belief = polling.observe(self.belief, seconds, self.prior)

    def created(self, task: Task, now: float, running: list[Task], look: float | None) -> float:
        fresh = self.next_look(now, running)
        return fresh if look is None else min(look, fresh)

    def lists(self, running: int) -> bool:
        return polling.use_list(running)

    def next_look(self, now: float, running: list[Task]) -> float:
        fc = self.fc()
        return now + polling.look_delay([(fc, now - t.created) for t in running], self.pacing)

    def own_next(self, task: Task, now: float, listed: bool) -> float | None:
        if not listed:
            return None
        return now + polling.safety_delay(self.fc(), now - task.created, OLD_SAFETY_EVERY)


# ---------------------------------------------------------------------- the simulated engine
def simulate(
    policy: OldPolicy | NewPolicy,
    durations: Sequence[float],
    *,
    slots: int,
    sequential: bool,
    period: float = 1.0,
) -> Stats:
    """Run ``durations`` through one model's watch loop, one pass per whole second.

    ``sequential``: the next job is created once the previous one was seen finished; otherwise
    all are queued at once and up to ``slots`` run. Passes come every ``period`` seconds when
    work is due (``period`` 1: the engine bench; 5: the Discord loop's fixed ticker). Per pass,
    as the engine does: the model's look (a list query plus one detail query per finished task,
    or for a lone task under the new policy its own detail query), then due per-task checks,
    then admission.
    """
    queue = list(durations)
    running: list[Task] = []
    history: list[Task] = []
    look: float | None = None
    now, last_queued = 0.0, 0.0
    out = Stats()
    learn_first = isinstance(policy, NewPolicy)

    def detect(task: Task) -> None:
        running.remove(task)
        out.lags.append(now - task.ends)
        policy.learn(task.duration)

    while queue or running:
        if look is not None and look <= now and running:
            listed = policy.lists(len(running))
            finished = [t for t in running if t.ends <= now]
            out.queries += 1 + len(finished) if listed else 1
            if not learn_first:  # today's sweep spaces itself before the polls learn
                look = policy.next_look(now, running)
            for t in finished:
                detect(t)
            if learn_first:
                look = policy.next_look(now, running) if running else None
                lone = not policy.lists(len(running))
                for t in running:
                    t.own = None if lone else t.own or policy.own_next(t, now, True)
        for t in [t for t in running if t.own is not None and t.own <= now]:
            out.queries += 1
            if t.ends <= now:
                detect(t)
            else:
                t.own = policy.own_next(t, now, policy.lists(len(running)))
        if not running:
            look = None
        while queue and len(running) < (1 if sequential else slots):
            task = Task(now, queue.pop(0))
            running.append(task)
            history.append(task)
            look = policy.created(task, now, running, look)
        if queue:
            last_queued = now
        wakeups = [w for w in (look, *(t.own for t in running)) if w is not None]
        ahead = min(wakeups) - now if wakeups else period
        now += period * max(1, math.ceil(ahead / period - 1e-9))
    if not sequential and last_queued > 0:
        work = sum(max(0.0, min(t.ends, last_queued) - t.created) for t in history)
        out.utilisation = work / (slots * last_queued)
    return out


# ---------------------------------------------------------------------- scenarios
Maker = Callable[[float], OldPolicy | NewPolicy]


@dataclass(frozen=True)
class Scenario:
    title: str
    truth: float  # median generation time of the tasks measured (s)
    prior: float  # the catalog's median for the key
    jobs: int  # jobs per run
    sequential: bool
    learned: int = 0  # samples learned (from ``learned_from``) before the run
    learned_from: float = 0.0
    isolated: bool = False  # one task at a time: the bound applies


SCENARIOS = (
    Scenario("lone task after 20 learned samples", 90, 67.5, 1, True, 20, 90, isolated=True),
    Scenario("20 jobs one at a time, fresh (bench_engine)", 90, 67.5, 20, True, isolated=True),
    Scenario("cold, 1 at a time x12, tasks 4x shorter", 22.5, 90, 12, True, isolated=True),
    Scenario("cold, 1 at a time x12, tasks 3x longer", 270, 90, 12, True, isolated=True),
    Scenario("lone task after 6 learned 20 s jobs", 20, 90, 1, True, 6, 20, isolated=True),
    Scenario("held-out: 12 at once, cold, ~20 s tasks", 20, 90, 12, False),
    Scenario("12 at once, cold, 4x shorter", 22.5, 90, 12, False),
    Scenario("12 at once, cold, 3x longer", 270, 90, 12, False),
    Scenario("slow day: 12 at once after 20 learned", 270, 90, 12, False, 20, 90),
    Scenario("fast day: 12 at once after 20 learned", 22.5, 90, 12, False, 20, 90),
    Scenario("burst: 500 queued, fresh (bench_engine)", 90, 67.5, 500, False),
)


def run_scenario(
    sc: Scenario, makers: dict[str, Maker], tasks: int, seed: int, period: float = 1.0
) -> dict[str, Stats]:
    """Every policy and the SDK on the same durations; ``tasks`` measured tasks in all."""
    rng = random.Random(seed)
    results = {name: Stats() for name in (*makers, "sdk")}
    runs = max(1, tasks // sc.jobs)
    for _ in range(runs):
        history = [sc.learned_from * math.exp(SIGMA * rng.gauss(0, 1)) for _ in range(sc.learned)]
        durations = [sc.truth * math.exp(SIGMA * rng.gauss(0, 1)) for _ in range(sc.jobs)]
        for name, make in makers.items():
            policy = make(sc.prior)
            for seconds in history:
                policy.learn(seconds)
            got = simulate(policy, durations, slots=5, sequential=sc.sequential, period=period)
            util = results[name].utilisation
            results[name].merge(got)
            results[name].utilisation = got.utilisation if math.isnan(util) else util
        results["sdk"].merge(sdk_stats(durations))
    return results


def report(sc: Scenario, results: dict[str, Stats]) -> list[tuple[str, ...]]:
    sdk = results["sdk"]
    bound = bounds(sc.truth)[1] if sc.isolated else math.nan
    rows: list[tuple[str, ...]] = []
    for name, st in results.items():
        rows.append(
            (
                f"  {name}",
                f"{st.q:.2f}",
                f"{st.q / sdk.q:.2f}",
                f"{st.lag:.2f} / {st.p95:.2f}",
                f"{st.lag / sdk.lag:.2f}",
                f"{st.q * st.lag:.1f}" if sc.isolated else "",
                f"{bound:.1f}" if sc.isolated else "",
                f"{st.utilisation:.1%}" if not math.isnan(st.utilisation) else "",
            )
        )
    return rows


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_polling")
    parser.add_argument("--tasks", type=int, default=1000, help="measured tasks per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--period", type=float, default=1.0, help="seconds between engine passes (Discord: 5)"
    )
    args = parser.parse_args()
    t = time.perf_counter()
    readme, corrected = bounds(90.0)
    print(f"bound for log-normal median 90 s, σ {SIGMA}: README (∫√f)²/2 = {readme:.1f} s, ")
    print(f"  corrected (∫√(f·S))²/2 = {corrected:.1f} s")
    rng = random.Random(args.seed)
    sample = [90 * math.exp(SIGMA * rng.gauss(0, 1)) for _ in range(20 * args.tasks)]
    plain, sdk = continuous_schedule(90, 0.6, sample), sdk_stats(sample)
    print(
        f"  checks spaced 0.6/√h(t) on the true distribution: {plain.q:.2f} q at "
        f"{plain.lag:.2f} s; SDK {sdk.q:.2f} q at {sdk.lag:.2f} s\n"
    )
    makers: dict[str, Maker] = {"old": OldPolicy, "new": NewPolicy}
    header = ("scenario / policy", "q/task", "×SDK", "lag mean / p95 s", "×SDK", "Q·L", "bound")
    rows: list[tuple[str, ...]] = [(*header, "slots")]
    for i, sc in enumerate(SCENARIOS):
        rows.append((sc.title, *[""] * 7))
        results = run_scenario(sc, makers, args.tasks, args.seed + i, args.period)
        rows.extend(report(sc, results))
    print(f"(engine passes every {args.period:g} s when work is due)")
    print(table(rows))
    print(f"(wall time {time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
