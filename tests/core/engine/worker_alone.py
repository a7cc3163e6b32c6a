"""A process that runs the worker with no chat library: ``python -m tests.core.engine.worker_alone
OUT_DIR``. The emulator serves DashScope in-process; a job from a made-up "memo" platform is
delivered through a port registered for that platform. Prints one JSON line with what happened,
including whether ``discord`` was ever imported."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bench._support import png
from bot.builder import build
from bot.settings import DashScopeSettings, Settings
from core.domain.jobs import ChatRef, JobSpec, JobView
from core.engine.config import EngineConfig
from emulator import Emulator, EmulatorConfig

KEY = "sk-worker-alone"


class MemoPort:
    """A front-end that keeps what it is asked to post."""

    def __init__(self) -> None:
        self.progress: list[str] = []
        self.result: asyncio.Future[JobView] = asyncio.get_running_loop().create_future()

    async def post_progress(self, job: JobView) -> None:
        self.progress.append(job.status.value)

    async def upload_limit(self, job: JobView) -> int:
        return 1 << 40

    async def post_result(self, job: JobView) -> str:
        self.result.set_result(job)
        return f"memo-{job.id}"

    async def post_failure(self, job: JobView) -> str:
        self.result.set_result(job)
        return f"memo-{job.id}"

    async def find_posted(self, job: JobView) -> str | None:
        return None


async def run(out: Path) -> dict[str, object]:
    emulator = EmulatorConfig(api_key=KEY, time_scale=0.002, queue_delay=0.0, duration_sigma=0.0)
    # a cadence for a task that takes a fraction of a second
    config = EngineConfig(poll_floor=0.02, poll_ceiling=0.1, progress_interval=0.0)
    async with Emulator(emulator) as emu:
        settings = Settings(
            dashscope=DashScopeSettings(api_key=KEY, base_url_override=emu.base_url),
            database_path=out / "animate.db",
            media_dir=out / "media",
            limit_user_active_jobs=0,
        )
        async with build(settings, config=config, interval=0.1, media_workers=1) as rt:
            port = MemoPort()
            rt.router.register("memo", port)
            spec = JobSpec(model="wan2.2-i2v-flash", prompt="a kite", resolution="480P", duration=5)
            view = await rt.service.submit(
                spec=spec, image=png(320, 240), chat=ChatRef("memo", "u1", "c1")
            )
            worker = asyncio.create_task(rt.worker.run())
            try:
                posted = await asyncio.wait_for(port.result, 30)
            finally:
                rt.worker.stop()
                await worker
            final = await rt.service.get_view(view.id)
    return {
        "discord_imported": "discord" in sys.modules,
        "job": view.id,
        "posted": posted.id,
        "status": final.status.value,
        "video": posted.video_path,
        "progress": port.progress,
        "tasks": len(emu.tasks),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(Path(sys.argv[1])))))  # noqa: T201 - the test reads it
