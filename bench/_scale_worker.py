"""One worker process of ``bench.bench_scale``: ``python -m bench._scale_worker``.

What ``animate-bot worker`` runs (``bot.builder`` on PostgreSQL, ``Worker.run``: the real loop,
its LISTEN wakeups and lease keeper, the system clock), with a chat port whose result posts take
``POST_SECONDS`` each (uploading a video to a chat takes about that), against the emulator at
``BASE_URL``. It prints ``ready`` once built (so the benchmark's clock starts with every worker
up, not while some are still importing), runs until SIGTERM, then prints one JSON line: the
calls it made and the 429s it met.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from bench._support import CountingProvider, SimClock
from bot.builder import build
from bot.settings import DashScopeSettings, Settings
from core.domain.jobs import JobView
from core.ports import VideoProvider

KEY = "sk-bench-scale"


class SlowChat:
    """A ``DeliveryPort`` whose result posts take ``seconds`` (an upload), the rest no time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.posted = 0

    async def post_progress(self, job: JobView) -> None:
        return None

    async def upload_limit(self, job: JobView) -> int:
        return 1 << 40

    async def post_result(self, job: JobView) -> str:
        await asyncio.sleep(self.seconds)
        self.posted += 1
        return f"m-{job.id}"

    async def post_failure(self, job: JobView) -> str:
        return await self.post_result(job)

    async def find_posted(self, job: JobView) -> str | None:
        return None


def settings(env: dict[str, str]) -> Settings:
    return Settings(
        dashscope=DashScopeSettings(api_key=KEY, base_url_override=env["BASE_URL"]),
        database_path=Path(env["STATE_DIR"]) / "animate.db",
        database_url=env["DATABASE_URL"],
        media_dir=Path(env["MEDIA_DIR"]),
        limit_user_active_jobs=0,
    )


async def main(env: dict[str, str]) -> None:
    counted: list[CountingProvider] = []

    def count(inner: VideoProvider) -> VideoProvider:
        # its clock only stamps query times, which are not kept here
        counted.append(CountingProvider(inner, SimClock()))
        return counted[0]

    chat = SlowChat(float(env["POST_SECONDS"]))
    async with build(settings(env), wrap_provider=count) as rt:
        rt.router.register("discord", chat)
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, rt.worker.stop)
        with contextlib.suppress(asyncio.CancelledError):
            await rt.worker.run()
    calls = counted[0]
    out = {
        "creates": calls.creates,
        "queries": calls.queries,
        "throttled": calls.throttled,
        "posted": chat.posted,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main(dict(os.environ)))
    sys.exit(0)
