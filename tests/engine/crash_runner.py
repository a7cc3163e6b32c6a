"""An engine process for the crash test: ``python -m tests.engine.crash_runner``.

Opens the shared SQLite file, runs ``recover()`` and then ``poll_once`` + ``deliver_once`` in a
loop until every job is final, delivering into a JSONL file. ``CRASH=<op>:<n>:<before|after>``
makes the process SIGKILL itself around the n-th call of ``op`` (a provider method, a port
method, or ``pass``): the crash-point hook lives here, never in production code.

Time: both this process and the emulator (in the test process) read the same simulated clock,
``SIM_START + (time.time() - REAL_START) * SPEED``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from core.catalog import Region
from core.jobs import FINAL, JobStatus, JobView
from core.media.pool import MediaPool
from core.service import AnimateService
from core.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from providers.dashscope import DashScopeClient
from storage.sqlite import SqliteJobStore

KEY = "sk-crash-test"


class ScaledClock:
    def __init__(self, sim_start: float, real_start: float, speed: float) -> None:
        self.sim_start, self.real_start, self.speed = sim_start, real_start, speed

    def __call__(self) -> float:
        return self.sim_start + (time.time() - self.real_start) * self.speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)


class CrashPoint:
    def __init__(self, spec: str) -> None:
        op, n, when = [*spec.split(":"), "", "", ""][:3] if spec else ("", "0", "")
        self.op, self.n, self.when = op, int(n or 0), when or "after"
        self.seen: Counter[str] = Counter()

    def hit(self, op: str, when: str) -> None:
        if when == "before":
            self.seen[op] += 1
        if op == self.op and self.seen[op] == self.n and when == self.when:
            logging.getLogger(__name__).warning("crash point %s:%d:%s", op, self.n, when)
            os.kill(os.getpid(), signal.SIGKILL)


class CrashingProvider:
    def __init__(self, inner: DashScopeClient, crash: CrashPoint) -> None:
        self.inner, self.crash = inner, crash

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        self.crash.hit("create", "before")
        info = await self.inner.create_task(request)
        self.crash.hit("create", "after")
        return info

    async def upload_file(self, model: str, media: MediaFile) -> str:
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


async def run(env: dict[str, str]) -> int:
    clock = ScaledClock(float(env["SIM_START"]), float(env["REAL_START"]), float(env["SPEED"]))
    crash = CrashPoint(env.get("CRASH", ""))
    pool = MediaPool(max_workers=1)
    async with (
        aiohttp.ClientSession() as session,
        SqliteJobStore.open(env["DB_PATH"]) as store,
    ):
        client = DashScopeClient(
            session, api_key=KEY, base_url=env["BASE_URL"], attempts=1, retry_delay=0
        )
        service = AnimateService(
            provider=CrashingProvider(client, crash),
            store=store,
            clock=clock,
            media_dir=Path(env["MEDIA_DIR"]),
            region=Region.BEIJING,
            media=pool,
        )
        port = FilePort(Path(env["POSTS"]), crash)
        await service.recover()
        deadline = time.monotonic() + float(env.get("RUN_SECONDS", "60"))
        while time.monotonic() < deadline:
            crash.hit("pass", "before")
            await service.poll_once()
            await service.deliver_once(port)
            jobs = await store.jobs_with_status(list(JobStatus))
            if jobs and all(j.status in FINAL for j in jobs):
                await pool.aclose()
                return 0
            await asyncio.sleep(0.01)  # the production loop's tick (real time), not a test sync
    await pool.aclose()
    return 3


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"), stream=sys.stderr)
    return asyncio.run(run(dict(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
