"""The processes of the scale-out test: ``python -m tests.e2e.scale_runner worker|front``.

``worker``: an engine process on the shared PostgreSQL database (``DATABASE_URL``), built by
``bot.builder`` as ``animate-bot worker`` builds it, posting into a JSONL file "chat" tagged with
its ``NAME``. It listens for new work (LISTEN/NOTIFY) and, once listening, prints ``listening``;
then it runs ``Worker.recover()`` and one ``Worker.tick`` per ``tick`` line on stdin, answering
``done``; a ``woken`` line is answered (``woken <n>``) once a notification has woken it. Ticks
are driven by the test so that every worker runs a step at the same simulated time, read from
the shared clock file that only the test advances: the emulator sees each request at the time
the engine took it, and the account's limits compare like with like. ``CRASH``
(``op:n:when``) SIGKILLs it at that point, counted once it has posted ``ARM_AFTER_POSTS``
results.

``front``: a front-end process (``ENGINE=off``): it records ``JOBS`` jobs through the facade and
exits; its inserts are what wake the workers.

Every provider call's outcome that matters (tasks created, 429s met) is appended to the
``EVENTS`` file, fsynced, so it survives the kill.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from bot.builder import build
from bot.settings import Settings
from core.domain.catalog import Model
from core.domain.errors import ProviderError
from core.domain.jobs import ChatRef, JobSpec, JobView
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest
from core.engine.config import EngineConfig
from core.ports import VideoProvider
from storage.postgres import PostgresJobStore
from tests.core.fakes import png
from tests.e2e.crash_runner import CrashingProvider, CrashPoint, FileClock, FilePort, settings

#: the models of the run: four with 5 concurrent tasks, one with 2 (reference §10), which gets
#: two jobs only (so that it does not set the length of the run): 22 tasks at once, more than
#: the account's 20 queries per second can look at in one second
MODELS = ("wan2.6-i2v-flash", "wan2.6-i2v", "wan2.5-i2v-preview", "wan2.7-i2v", "wan2.2-i2v-flash")


def model_of(job: int) -> str:
    return MODELS[4] if job % 25 == 24 else MODELS[job % 4]


def append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


class Recording(CrashingProvider):
    """The crash points of the crash test, and a record of tasks made and 429s met."""

    def __init__(self, inner: VideoProvider, crash: CrashPoint, name: str, events: Path):
        super().__init__(inner, crash)
        self.name, self.events = name, events

    def _throttled(self, exc: ProviderError) -> None:
        if exc.status == 429:
            append(self.events, {"worker": self.name, "event": "429", "code": exc.code})

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        self.crash.hit("create", "before")
        try:
            info = await self.inner.create_task(request)
        except ProviderError as exc:
            self._throttled(exc)
            raise
        append(self.events, {"worker": self.name, "event": "created", "task": info.task_id})
        self.crash.hit("create", "after")
        return info

    async def get_task(self, task_id: str) -> TaskInfo:
        try:
            return await super().get_task(task_id)
        except ProviderError as exc:
            self._throttled(exc)
            raise

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        return await self.inner.upload_file(model, media)


class Armed(CrashPoint):
    """A crash point that counts (and fires) only once armed: mid-run, once this worker has
    posted ``after_posts`` results, not at the start."""

    def __init__(self, spec: str, after_posts: int) -> None:
        super().__init__(spec)
        self.after_posts = after_posts
        self.posts = 0

    def hit(self, op: str, when: str) -> None:
        if self.posts >= self.after_posts:
            super().hit(op, when)


class NamedPort(FilePort):
    """The crash test's file "chat", each post saying which worker made it."""

    def __init__(self, path: Path, crash: CrashPoint, name: str) -> None:
        super().__init__(path, crash)
        self.name = name

    def _append(self, record: dict[str, Any]) -> None:
        super()._append({**record, "worker": self.name})

    async def post_result(self, job: JobView) -> str:
        posted = await super().post_result(job)
        if isinstance(self.crash, Armed):
            self.crash.posts += 1
        return posted

    async def post_progress(self, job: JobView) -> None:
        return None  # only outcomes matter here (and each edit would be a line to write)


def _settings(env: dict[str, str]) -> Settings:
    base = settings(env)
    return Settings(
        dashscope=base.dashscope,
        database_path=base.database_path,
        database_url=env["DATABASE_URL"],
        media_dir=base.media_dir,
        limit_user_active_jobs=0,
        engine=env.get("ENGINE", "on") != "off",
    )


async def worker(env: dict[str, str]) -> int:
    name, clock = env["NAME"], FileClock(Path(env["CLOCK_PATH"]))
    crash = Armed(env.get("CRASH", ""), int(env.get("ARM_AFTER_POSTS") or 0))
    events = Path(env["EVENTS"])
    wakes = 0
    first_wake = asyncio.Event()

    def woken() -> None:
        nonlocal wakes
        wakes += 1
        first_wake.set()

    async with build(
        _settings(env),
        clock=clock,
        wrap_provider=lambda inner: Recording(inner, crash, name, events),
        retry_delay=0,
        media_workers=1,
        lease_seconds=float(env["LEASE_SECONDS"]),
        # no task-list sweeps: every running task is polled on its own, so the workers' polls
        # together press on the account's query budget (20 per second)
        config=EngineConfig(sweep=env.get("SWEEP") != "off"),
    ) as rt:
        rt.router.register("discord", NamedPort(Path(env["POSTS"]), crash, name))
        assert isinstance(rt.store, PostgresJobStore)
        listening = asyncio.Event()
        listener = asyncio.create_task(rt.store.listen(woken, listening=listening.set))
        await asyncio.wait_for(listening.wait(), 30)
        print("listening", flush=True)  # noqa: T201 - the protocol with the test
        await rt.worker.recover()
        try:
            while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
                if command == "woken":
                    await first_wake.wait()
                    print(f"woken {wakes}", flush=True)  # noqa: T201 - same
                    continue
                await rt.worker.tick(clock.now())
                print("done", flush=True)  # noqa: T201 - same
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
    return 0


async def front(env: dict[str, str]) -> int:
    clock = FileClock(Path(env["CLOCK_PATH"]))
    async with build(_settings({**env, "ENGINE": "off"}), clock=clock, media_workers=1) as rt:
        for i in range(int(env["JOBS"])):
            spec = JobSpec(model=model_of(i), prompt=f"job {i}", resolution="", duration=0)
            chat = ChatRef("discord", f"user{i % 7}", "chan", guild=f"g{i % 3}")
            await rt.service.submit(spec=spec, image=png(320, 240), chat=chat)
    return 0


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    role = argv[0] if argv else ""
    if role == "worker":
        return asyncio.run(worker(env))
    if role == "front":
        return asyncio.run(front(env))
    print("usage: python -m tests.e2e.scale_runner worker|front", file=sys.stderr)  # noqa: T201 - CLI
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
