"""An engine process for the crash test: ``python -m tests.e2e.crash_runner``.

Builds the runtime with ``bot.builder`` on the shared SQLite file (or the PostgreSQL database at
``DATABASE_URL``, where a restarted engine waits for the dead one's leases to expire), runs
``Worker.recover()`` and
then ``Worker.tick`` in a loop until every job is final, delivering into a JSONL file through a
port registered in the router. ``CRASH=<op>:<n>:<before|after>`` makes the process SIGKILL itself
around the n-th call of ``op`` (a provider method, a port method, ``pass``, or a Slack request
``slack:<method>`` / ``slack:upload``): the crash-point hook lives here, never in production code.

With ``SLACK_API_URL`` (and the two tokens) the real Slack front-end runs too, built by
``bot.builder.slack_frontend`` on an aiohttp session whose trace hooks are the Slack crash
points; its port delivers the "slack" jobs. ``SERVE=1`` keeps the process serving (the Bolt app
answers users) until SIGTERM; the clock then moves only while the file ``GATE`` exists and a
job is unfinished, so it stands still while a test talks to the app (Slack's 3 s windows run on
the same clock).

Time: a simulated clock kept in a file (``CLOCK_PATH``). The runner advances it by ``STEP``
simulated seconds after every tick, and the emulator in the test process reads the same file, so
the run goes through the same ticks however fast or slow the machine is: every crash point is
reached at the same place of the run on every machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.builder import Runtime, build, slack_frontend
from bot.settings import DashScopeSettings, Settings, SlackSettings
from core.domain.catalog import Model
from core.domain.jobs import FINAL, JobStatus, JobView
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from core.ports import VideoProvider

KEY = "sk-crash-test"
#: simulated seconds per tick
STEP = 1.0
#: a run that has not finished after this many ticks is stuck
MAX_TICKS = 20_000


class FileClock:
    """Simulated epoch seconds in a file: ``()`` for the emulator, ``now()`` for the engine."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> float:
        return float(self.path.read_text(encoding="ascii"))

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)

    def set(self, value: float) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(repr(value), encoding="ascii")
        tmp.replace(self.path)  # atomic: a reader never sees a half-written number

    def advance(self, seconds: float) -> None:
        self.set(self() + seconds)


class CrashPoint:
    def __init__(self, spec: str) -> None:
        # rsplit: a Slack op has a colon of its own (slack:chat.update:1:after)
        op, n, when = spec.rsplit(":", 2) if spec else ("", "0", "")
        self.op, self.n, self.when = op, int(n or 0), when or "after"
        self.seen: Counter[str] = Counter()

    def hit(self, op: str, when: str) -> None:
        if when == "before":
            self.seen[op] += 1
        if op == self.op and self.seen[op] == self.n and when == self.when:
            logging.getLogger(__name__).warning("crash point %s:%d:%s", op, self.n, when)
            os.kill(os.getpid(), signal.SIGKILL)


class CrashingProvider:
    def __init__(self, inner: VideoProvider, crash: CrashPoint) -> None:
        self.inner, self.crash = inner, crash

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        self.crash.hit("create", "before")
        info = await self.inner.create_task(request)
        self.crash.hit("create", "after")
        return info

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        return await self.inner.upload_file(model, media)

    async def get_task(self, task_id: str) -> TaskInfo:
        self.crash.hit("get", "before")
        info = await self.inner.get_task(task_id)
        self.crash.hit("get", "after")
        return info

    async def cancel_task(self, task_id: str) -> None:
        await self.inner.cancel_task(task_id)

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        self.crash.hit("list", "before")
        found = await self.inner.list_tasks(start=start, end=end, model=model, status=status)
        self.crash.hit("list", "after")
        return found

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        self.crash.hit("download", "before")
        size = await self.inner.download(url, dest, max_bytes=max_bytes)
        self.crash.hit("download", "after")
        return size


class FilePort:
    """Posts are lines in a JSONL file (fsynced), so they survive the kill like a chat would."""

    def __init__(self, path: Path, crash: CrashPoint) -> None:
        self.path, self.crash = path, crash

    def _append(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _post(self, job: JobView, kind: str, op: str) -> str:
        self.crash.hit(op, "before")
        message = f"m-{job.id}-{uuid.uuid4().hex[:8]}"
        self._append(
            {
                "job": job.id,
                "kind": kind,
                "msg": message,
                "video": job.video_path,
                "task": job.task_id,
            }
        )
        self.crash.hit(op, "after")
        return message

    async def post_progress(self, job: JobView) -> None:
        self._post(job, "progress:" + job.status.value, "progress")

    async def upload_limit(self, job: JobView) -> int:
        return 1 << 40  # a file "chat" takes any size

    async def post_result(self, job: JobView) -> str:
        return self._post(job, "result", "post")

    async def post_failure(self, job: JobView) -> str:
        return self._post(job, "failure", "post")

    async def find_posted(self, job: JobView) -> str | None:
        if not self.path.exists():
            return None
        for line in self.path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["job"] == job.id and rec["kind"] in ("result", "failure"):
                return str(rec["msg"])
        return None


def slack_trace(crash: CrashPoint) -> aiohttp.TraceConfig:
    """Crash points around every Slack request: ``slack:<method>`` (Web API) and
    ``slack:upload`` (the bytes, to the URL files.getUploadURLExternal gave)."""

    def op(url: object) -> str:
        path = str(getattr(url, "path", ""))
        return "slack:upload" if "/upload/" in path else "slack:" + path.rsplit("/", 1)[-1]

    async def start(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        crash.hit(op(params.url), "before")

    async def end(_: object, __: object, params: aiohttp.TraceRequestEndParams) -> None:
        crash.hit(op(params.url), "after")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    return trace


def slack_settings(env: dict[str, str]) -> SlackSettings | None:
    if not env.get("SLACK_API_URL"):
        return None
    return SlackSettings(env["SLACK_BOT_TOKEN"], env["SLACK_APP_TOKEN"], env["SLACK_API_URL"])


def settings(env: dict[str, str]) -> Settings:
    return Settings(
        dashscope=DashScopeSettings(api_key=KEY, base_url_override=env["BASE_URL"]),
        database_path=Path(env["DB_PATH"]),
        database_url=env.get("DATABASE_URL") or None,
        media_dir=Path(env["MEDIA_DIR"]),
        limit_user_active_jobs=0,
    )


async def run(env: dict[str, str]) -> int:
    clock = FileClock(Path(env["CLOCK_PATH"]))
    crash = CrashPoint(env.get("CRASH", ""))
    slack = slack_settings(env)
    async with (
        build(
            settings(env),
            clock=clock,
            wrap_provider=lambda inner: CrashingProvider(inner, crash),
            retry_delay=0,
            media_workers=1,
            lease_seconds=float(env.get("LEASE_SECONDS") or 20.0),
        ) as rt,
        aiohttp.ClientSession(trace_configs=[slack_trace(crash)]) as session,
    ):
        rt.router.register("discord", FilePort(Path(env["POSTS"]), crash))
        if slack is None:
            return await until_final(rt, clock, crash)
        async with slack_frontend(rt, slack, session=session, share_waits=(0.0,)):
            if env.get("SERVE"):
                return await serve(rt, clock, crash, Path(env["GATE"]))
            return await until_final(rt, clock, crash)


async def until_final(rt: Runtime, clock: FileClock, crash: CrashPoint) -> int:
    await rt.worker.recover()
    for _ in range(MAX_TICKS):
        crash.hit("pass", "before")
        await rt.worker.tick(clock.now())
        jobs = await rt.store.jobs_with_status(list(JobStatus))
        if jobs and all(j.status in FINAL for j in jobs):
            return 0
        clock.advance(STEP)
    return 3


async def serve(rt: Runtime, clock: FileClock, crash: CrashPoint, gate: Path) -> int:
    """Serve until SIGTERM; time moves only through the gate, and only while there is work."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await rt.worker.recover()
    while not stop.is_set():
        crash.hit("pass", "before")
        await rt.worker.tick(clock.now())
        jobs = await rt.store.jobs_with_status(list(JobStatus))
        if gate.exists() and any(j.status not in FINAL for j in jobs):  # noqa: ASYNC240 - one stat of a test gate per tick
            clock.advance(STEP)
        else:
            # idle: let the Bolt app answer users (this is the runner's loop, not a test's)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.02)
    return 0


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), stream=sys.stderr)
    return asyncio.run(run(dict(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
