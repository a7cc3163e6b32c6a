"""The CLI's job on the engine: the job it runs, its delivery port, and the run itself.

``run`` builds the runtime (``bot.builder``) on a temporary SQLite file, submits the job through
the facade, registers ``CliPort`` for the "cli" platform and runs the worker until the outcome is
posted: progress on stderr, the MP4 copied to ``--out``, the figures on stdout.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.builder import build
from bot.settings import DashScopeSettings, Settings
from core.app.service import ValidSpec
from core.domain.catalog import Model, Region
from core.domain.jobs import ChatRef, JobStatus, JobView
from core.domain.pricing import PriceBook, PriceOverrides
from core.engine.config import EngineConfig
from core.ports import DeliveryError

#: the ``ChatRef.platform`` of CLI jobs (the CLI registers its port under it)
PLATFORM = "cli"


@dataclass(frozen=True, slots=True)
class Job:
    """A validated request, its input bytes and where the video goes."""

    spec: ValidSpec
    region: Region
    out: Path
    max_bytes: int
    image: bytes | None  # None when the job continues ``clip``
    audio: bytes | None = None
    audio_name: str | None = None
    last_frame: bytes | None = None
    clip: bytes | None = None
    clip_seconds: float | None = None
    price_overrides: PriceOverrides = field(default_factory=PriceOverrides)

    @property
    def model(self) -> Model:
        return self.spec.spec.catalog_model


def stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - the CLI talks on stderr


def stdout_line(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - results go to stdout


def _cost_line(job: Job, seconds: float | None) -> str:
    spec = job.spec.spec
    prices = PriceBook(job.region, job.price_overrides)
    billed = float(spec.duration) if seconds is None else seconds
    unit = prices.unit_price(job.model, spec.resolution, sound=spec.sound)
    currency = prices.currency
    if unit is None:
        return (
            "unknown (no published price for this setting; an operator sets one in PRICE_OVERRIDES)"
        )
    return f"{unit * billed:.4g} {currency} ({billed:g} s × {unit:g} {currency}/s)"


class CliPort:
    """The CLI's ``DeliveryPort``: progress lines on stderr (one updating line on a TTY), the
    result copied to ``--out``. ``outcome`` resolves with the job's view once it is posted."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.task: str | None = None
        self.outcome: asyncio.Future[JobView] = asyncio.get_running_loop().create_future()

    def _show(self, label: str, *, final: bool = False) -> None:
        elapsed = time.monotonic() - self.start
        if self.tty:
            sys.stderr.write(f"\r{label:<10} {elapsed:5.0f} s" + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            stderr_line(f"{label} after {elapsed:.0f} s")

    async def post_progress(self, job: JobView) -> None:
        if job.task_id is not None and self.task is None:
            self.task = job.task_id
            stderr_line(f"task {job.task_id}")
        self._show(job.status.value.upper())

    async def upload_limit(self, job: JobView) -> int:
        return 1 << 62  # a file copy has no size limit

    async def post_result(self, job: JobView) -> str:
        if job.task_id is not None and self.task is None:
            self.task = job.task_id
            stderr_line(f"task {job.task_id}")
        self._show(JobStatus.SUCCEEDED.value.upper(), final=True)
        if job.video_path is None:
            raise DeliveryError("the video is not on disk", permanent=True)
        await asyncio.to_thread(_copy, Path(job.video_path), self.out)
        self._settle(job)
        return str(self.out)

    async def post_failure(self, job: JobView) -> str:
        self._show(job.status.value.upper(), final=True)
        self._settle(job)
        return "stderr"

    async def find_posted(self, job: JobView) -> str | None:
        return None  # one process, one run: nothing was posted before it started

    def _settle(self, job: JobView) -> None:
        if not self.outcome.done():
            self.outcome.set_result(job)


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, part)
    part.replace(dest)


def engine_config(poll: float) -> EngineConfig:
    """The engine's cadence for one job watched by a person: ``poll`` seconds between looks
    at most, and the documented 15 s ceiling at the default 5 s."""
    return EngineConfig(
        poll_floor=poll / 5,
        poll_ceiling=poll * 3,
        reconcile_delay=poll,
        list_settle=poll * 2,
        progress_interval=0.0,
        media_retention_days=36_500.0,  # the temporary directory goes away anyway
    )


async def run(job: Job, *, dashscope: DashScopeSettings, poll_interval: float) -> int:
    """Run ``job`` on the engine over a temporary SQLite file; 0 done, 1 failed."""
    with tempfile.TemporaryDirectory(prefix="animate-cli-") as tmp:
        settings = Settings(
            dashscope=replace(dashscope, region=job.region),
            database_path=Path(tmp) / "animate.db",
            media_dir=Path(tmp) / "media",
            limit_user_active_jobs=0,
            price_overrides=job.price_overrides,
        )
        config = replace(engine_config(poll_interval), max_video_bytes=job.max_bytes)
        async with build(settings, config=config, interval=poll_interval) as rt:
            port = CliPort(job.out)
            rt.router.register(PLATFORM, port)
            view = await rt.service.submit(
                spec=job.spec,
                image=job.image,
                chat=ChatRef(PLATFORM, user="local", channel="stderr"),
                audio=job.audio,
                audio_filename=job.audio_name,
                last_frame=job.last_frame,
                clip=job.clip,
            )
            spec = view.spec
            stderr_line(f"model {spec.model} {spec.resolution} {spec.duration} s; "
                 f"estimated cost {_cost_line(job, None)}")  # fmt: skip
            for note in view.notes:
                stderr_line(f"note: {note}")
            if spec.template and spec.prompt:
                stderr_line("note: effects ignore the prompt")
            if job.clip_seconds is not None:
                stderr_line(f"note: DashScope bills the whole {spec.duration} s video, the "
                            f"{job.clip_seconds:.1f} s clip it continues included")  # fmt: skip
            worker = asyncio.create_task(rt.worker.run(), name="worker")
            try:
                done = await port.outcome
            except asyncio.CancelledError:
                stderr_line(f"interrupted; task {port.task or '(not created)'} may still finish")
                raise
            finally:
                rt.worker.stop()
                await worker
    if done.status is not JobStatus.DOWNLOADED:
        stderr_line(f"error: {done.error_message or 'the job ended ' + done.status.value}")
        return 1
    stdout_line(f"video: {job.out}")
    stdout_line(f"seed: {done.seed_used}")
    stdout_line(f"actual_prompt: {done.actual_prompt or '(not reported)'}")
    stdout_line(f"cost: {_cost_line(job, done.usage_seconds)}")
    return 0
