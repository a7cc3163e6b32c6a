"""Job-engine benchmarks: ``python -m bench.bench_engine [--quick]``.

Everything runs against the emulator on 127.0.0.1 through the real DashScope client, on one
simulated clock shared by the emulator and the engine, so hours of DashScope time take seconds
(``bench._engine_runs``). Task durations are log-normal (σ = 0.25) around the emulator's median;
the catalog's prior for wan2.6-i2v-flash is 90 s at 1080P (67.5 s at 720P). Every figure is
printed next to a baseline measured in the same run:

1. status queries per finished task and completion→detection lag, against the official SDK's
   ``wait()`` schedule (sleeps 1,1,2,2,2,4,4,4,5,5,… s) replayed on the very same durations:
   a 500-job queue, jobs one at a time (fresh, and after 20 learned), twelve at once with no
   history on tasks 4× shorter, 3× longer and ~20 s (the catalog expects 90 s); for tasks one at
   a time the bound ``queries × mean lag ≥ (∫√(f·S) dt)² / 2`` of the true distribution is
   printed beside the product measured;
2. slot utilisation and 429s with the queue;
3. push completion (EventBridge events from the emulator to the bot's real endpoint): queries
   per task and lag, against polling only on the very same durations (the emulator configured
   alike, its events dropped);
4. peak RSS while downloading a 100 MB result, against reading it into memory.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from aiohttp import web

from bench._engine_runs import KEY, QUEUE_DELAY, Result, Scenario, run_scenario
from bench._support import tiny_mp4
from bench.bench_polling import SIGMA
from providers.dashscope import DashScopeClient


def bound(median: float, sigma: float = SIGMA, shift: float = QUEUE_DELAY) -> float:
    """``(∫√(f·S) dt)² / 2`` (s) for a finish time ``shift + LogNormal(median, sigma)``."""
    lo, hi = median * math.exp(-8 * sigma), median * math.exp(8 * sigma)
    steps, total = 20_000, 0.0
    dt = (hi - lo) / steps
    for i in range(steps):
        x = lo + (i + 0.5) * dt
        z = math.log(x / median) / sigma
        f = math.exp(-z * z / 2) / (math.sqrt(2 * math.pi) * sigma * x)
        s = 0.5 * math.erfc(z / math.sqrt(2))
        total += math.sqrt(f * s) * dt
    del shift  # a constant delay moves f and S together: the integral is unchanged
    return total * total / 2


# ---------------------------------------------------------------------- download memory
def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> PeakRss:
        self.peak = rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def download_memory(tmp: Path, size: int = 100 * 1024 * 1024) -> tuple[int, int, int]:
    blob = tmp / "result.mp4"
    head = tiny_mp4()
    with blob.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)  # sparse zeros after a real MP4 header

    async def serve(_: web.Request) -> web.FileResponse:
        return web.FileResponse(blob)

    app = web.Application()
    app.router.add_get("/result.mp4", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    origin = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            client = DashScopeClient(session, api_key=KEY, base_url=f"{origin}/api/v1")
            base = rss()
            with PeakRss() as streamed:
                got = await client.download(
                    f"{origin}/result.mp4", tmp / "out.mp4", max_bytes=2 * size
                )
            stream_peak = streamed.peak - base
            base = rss()
            with PeakRss() as naive:
                async with session.get(f"{origin}/result.mp4") as resp:
                    data = await resp.read()
            naive_peak = naive.peak - base
            assert len(data) == got == size  # noqa: S101 - both fetched the whole file
            del data
    finally:
        await runner.cleanup()
    return stream_peak, naive_peak, size


# ---------------------------------------------------------------------- main
def scenarios(quick: bool) -> dict[str, Scenario]:
    cold = 2 if quick else 5
    return {
        "queue": Scenario("500-job queue", 100 if quick else 500, False, resolution="720P"),
        "fresh": Scenario(
            "jobs one at a time, fresh",
            10 if quick else 20,
            True,
            resolution="720P",
            isolated=True,
        ),
        "learned": Scenario(
            "one at a time after 20 learned",
            10 if quick else 20,
            True,
            learned=20,
            isolated=True,
        ),
        "short": Scenario("12 at once, no history, tasks 4× shorter", 12, False, 22.5, runs=cold),
        "long": Scenario("12 at once, no history, tasks 3× longer", 12, False, 270.0, runs=cold),
        "held": Scenario("12 at once, no history, ~20 s tasks", 12, False, 20.0, runs=cold),
        "push": Scenario(
            "pushed, one at a time", 10 if quick else 20, True, push={}, isolated=True
        ),
        "push_queue": Scenario(
            "pushed, 100-job queue, 5 % lost, 5 % duplicated",
            40 if quick else 100,
            False,
            push={"loss": 0.05, "duplicate": 0.05},
        ),
    }


def polling_only(sc: Scenario) -> Scenario:
    """The same emulator (same random draws, so the same durations), its events all dropped,
    the bot without an endpoint."""
    return dataclasses.replace(sc, push={**(sc.push or {}), "loss": 1.0, "duplicate": 0.0},
                               endpoint=False)  # fmt: skip


Row = tuple[str, str, str, str]


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def versus_sdk(title: str, r: Result, *, isolated: bool, median: float | None) -> list[Row]:
    sdk_q, sdk_lags = r.sdk()
    sdk_lag = sum(sdk_lags) / len(sdk_lags)
    rows: list[Row] = [
        (f"queries/task, {title}", f"{r.q:.2f}", f"{sdk_q:.2f} (SDK wait)", f"{r.q / sdk_q:.2f}"),
        (
            "  lag mean / p95 (s)",
            f"{r.lag:.2f} / {r.p95:.2f}",
            f"{sdk_lag:.2f} / {sorted(sdk_lags)[math.ceil(0.95 * len(sdk_lags)) - 1]:.2f}",
            f"{r.lag / sdk_lag:.2f}",
        ),
    ]
    if isolated:
        b = bound(median or 90.0)
        rows.append(("  queries × mean lag (s)", f"{r.q * r.lag:.1f}",
                     f"{b:.1f} (bound)", f"{r.q * r.lag / b:.2f}"))  # fmt: skip
    return rows


def table(rows: list[Row]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        yield "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))


async def main_async(quick: bool, only: list[str] | None) -> None:
    chosen = {k: v for k, v in scenarios(quick).items() if not only or k in only}
    rows: list[Row] = [("figure", "engine", "baseline", "ratio")]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        t = time.perf_counter()
        for key, sc in chosen.items():
            r = await run_scenario(tmp, sc)
            title = f"{sc.title} ({r.tasks} tasks)"
            rows += versus_sdk(title, r, isolated=sc.isolated, median=sc.median)
            if key == "queue":
                rows += [
                    ("429s / most queries in 1 s", f"{r.throttled} / {r.max_window}",
                     "limit 20 QPS", f"{r.max_window / 20:.2f}"),
                    ("slot utilisation while jobs queued", f"{r.util_queued:.1%}", "5 slots",
                     f"{r.util_queued:.3f}"),
                ]  # fmt: skip
            if sc.push is not None:
                if r.lost_lags:
                    lost = f"{sc.push.get('loss', 0):.0%} of events dropped"
                    rows.append((f"  lag of pushed / lost-event tasks ({len(r.lost_lags)} lost)",
                                 f"{mean(r.pushed_lags):.2f} / {mean(r.lost_lags):.1f}", lost,
                                 ""))  # fmt: skip
                base = await run_scenario(tmp, polling_only(sc))
                rows.append(("  against polling only: queries/task", f"{r.q:.2f}",
                             f"{base.q:.2f} (same durations)", f"{r.q / base.q:.2f}"))  # fmt: skip
                rows.append(("  against polling only: lag mean (s)", f"{r.lag:.2f}",
                             f"{base.lag:.2f}", f"{r.lag / base.lag:.2f}"))  # fmt: skip
        if not only or "download" in only:
            streamed, naive, size = await download_memory(tmp)
            mb = 1024 * 1024
            rows.append((f"peak RSS growth, {size // mb} MB download",
                         f"{streamed / mb:.1f} MB (streamed)", f"{naive / mb:.1f} MB (read())",
                         f"{streamed / max(naive, 1):.3f}"))  # fmt: skip
        wall = time.perf_counter() - t
    print("\n".join(table(rows)))
    print(f"(wall time {wall:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_engine")
    parser.add_argument("--quick", action="store_true", help="fewer jobs (≈ 1 min)")
    parser.add_argument(
        "--only",
        nargs="*",
        help="scenarios: queue fresh learned short long held push push_queue download",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args.quick, args.only))


if __name__ == "__main__":
    main()
