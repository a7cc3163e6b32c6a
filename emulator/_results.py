"""The result videos: one render per task, started on first download, off the event loop."""

from __future__ import annotations

import asyncio
import logging

from emulator._config import EmulatorConfig
from emulator._render import FPS, RenderJob, render_mp4
from emulator._spec import TaskSpec

log = logging.getLogger(__name__)


def render_job(task_id: str, spec: TaskSpec, config: EmulatorConfig) -> RenderJob:
    """What the MP4 of a task must show: its size, length, inputs and sound (§5, §6.5)."""
    return RenderJob(
        width=spec.width,
        height=spec.height,
        duration=spec.duration,
        fps=config.wan25_fps if spec.rule.generation == "2.5" else FPS,
        image=spec.image,
        audio=spec.audio,
        has_audio=spec.has_audio,
        watermark=spec.watermark,
        label=task_id,
        max_side=config.render_max_side,
        pad_to_bytes=config.pad_video_to_bytes,
        last_label=spec.last_label if spec.has_last_frame else None,
        last_image=spec.last_image,
        clip=spec.clip,
        clip_seconds=spec.clip_seconds,
    )


class Renders:
    """Cache of render futures by task id; a failed render is retried on the next request."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._renders: dict[str, asyncio.Task[bytes]] = {}

    def get(self, task_id: str, spec: TaskSpec) -> asyncio.Task[bytes]:
        existing = self._renders.get(task_id)
        if existing is not None and not (existing.done() and existing.exception() is not None):
            return existing
        job = render_job(task_id, spec, self._config)
        render = asyncio.ensure_future(asyncio.to_thread(render_mp4, job))
        self._renders[task_id] = render
        return render

    async def wait(self) -> None:
        pending = [t for t in self._renders.values() if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
