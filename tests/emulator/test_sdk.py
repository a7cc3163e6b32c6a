"""The official dashscope SDK (1.x sync, 1.x aio, v2 client) as the judge of wire compatibility.

These few tests run on the real clock with a small time_scale: the SDK's own wait() sleeps 1 s
between polls, so every task is made to finish well within that first second.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import av
import dashscope
import pytest
import requests
from dashscope import VideoSynthesis
from dashscope.aigc.video_synthesis import AioVideoSynthesis
from dashscope.api_entities.aio_session import close_shared_aio_session

from emulator import Emulator
from emulator._oss import UPLOAD_PATH
from tests.emulator.helpers import KEY, PNG_URI, SDK_FAST, image_bytes


@pytest.fixture(autouse=True)
def _local(local_only: None) -> None:
    """Every test here keeps the SDK on loopback."""


def _probe(url: str) -> tuple[str, int, int]:
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    with av.open(io.BytesIO(response.content)) as container:
        video = container.streams.video[0]
        return video.codec_context.name, video.width, video.height


def test_sync_async_call_and_wait(threaded: Emulator) -> None:
    task = VideoSynthesis.async_call(
        model="wan2.2-i2v-flash", prompt="a cat", img_url=PNG_URI, resolution="480P", api_key=KEY
    )
    assert task.status_code == 200, task
    assert task.output.task_status == "PENDING"
    result = VideoSynthesis.wait(task, api_key=KEY)
    assert result.status_code == 200
    assert result.output.task_status == "SUCCEEDED"
    assert _probe(result.output.video_url)[0] == "h264"
    body = threaded.tasks[task.output.task_id].request_body
    assert body["input"]["function"] == "video-synthesis" and body["input"]["extend_prompt"] is True
    listed = VideoSynthesis.list(api_key=KEY)  # type: ignore[attr-defined]  # SDK stubs omit it
    assert listed.status_code == 200
    assert listed.output["data"][0]["task_id"] == task.output.task_id


def test_sync_local_file_upload(threaded: Emulator, tmp_path: Path) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(image_bytes(400, 300))
    task = VideoSynthesis.async_call(
        model="wan2.2-i2v-flash", img_url=f"file://{picture}", resolution="480P", api_key=KEY
    )
    assert task.status_code == 200, task
    paths = [(r.method, r.path) for r in threaded.request_log]
    assert paths[:2] == [("GET", "/api/v1/uploads"), ("POST", UPLOAD_PATH)]
    create = threaded.request_log[2]
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"
    assert create.json["input"]["img_url"].startswith("oss://dashscope-instant/")
    result = VideoSynthesis.wait(task, api_key=KEY)
    assert result.output.task_status == "SUCCEEDED"
    assert _probe(result.output.video_url)[1:] == (256, 192)  # 720×544 capped to 256 px


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "message"),
    [
        ({"api_key": "sk-garbage"}, 401, "InvalidApiKey", "Invalid API-key provided."),
        ({"model": "wan9-i2v"}, 400, "InvalidParameter", "Model not exist."),
        ({"duration": 7}, 400, "InvalidParameter", None),
    ],
)
def test_sync_errors(
    threaded: Emulator, kwargs: dict[str, Any], status: int, code: str, message: str | None
) -> None:
    call: dict[str, Any] = {
        "model": "wan2.5-i2v-preview",
        "img_url": PNG_URI,
        "api_key": KEY,
        **kwargs,
    }
    response = VideoSynthesis.async_call(**call)
    assert (response.status_code, response.code) == (status, code)
    if message is not None:
        assert response.message == message
    assert not threaded.tasks


def test_sync_cancel_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    config = dataclasses.replace(SDK_FAST, queue_delay=1e6)
    with Emulator(config).run_in_thread() as emu:
        monkeypatch.setattr(dashscope, "base_http_api_url", emu.base_url)
        task = VideoSynthesis.async_call(model="wan2.6-i2v", img_url=PNG_URI, api_key=KEY)
        assert VideoSynthesis.cancel(task, api_key=KEY).status_code == 200
        assert VideoSynthesis.fetch(task, api_key=KEY).output.task_status == "CANCELED"


async def test_aio_async_call_and_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Emulator(SDK_FAST) as emu:
        monkeypatch.setattr(dashscope, "base_http_api_url", emu.base_url)
        try:
            task = await AioVideoSynthesis.async_call(
                model="wan2.6-i2v-flash",
                img_url=PNG_URI,
                duration=2,
                resolution="720P",
                audio=False,
                api_key=KEY,
            )
            assert task.status_code == 200, task
            result = await AioVideoSynthesis.wait(task, api_key=KEY)
            assert result.output.task_status == "SUCCEEDED"
            assert (result.usage["duration"], result.usage["audio"], result.usage["SR"]) == (
                2,
                False,
                720,
            )
            bad = await AioVideoSynthesis.async_call(
                model="wan2.6-i2v-flash", img_url=PNG_URI, duration=20, api_key=KEY
            )
            assert (bad.status_code, bad.code) == (400, "InvalidParameter")
        finally:
            await close_shared_aio_session()
    assert any(r.path.endswith(f"/tasks/{task.output.task_id}/") for r in emu.request_log)


def test_v2_client_generate_with_local_file(threaded: Emulator, tmp_path: Path) -> None:
    picture = tmp_path / "dog.jpg"
    picture.write_bytes(image_bytes(300, 400, "JPEG"))
    with dashscope.Client(base_url=threaded.base_url, api_key=KEY) as client:
        job = client.videos.generate(
            model="wan2.5-i2v-preview",
            prompt="a dog",
            image_url=f"file://{picture}",
            resolution="480P",
            poll_interval=0.1,
            max_interval=0.2,
            timeout=30,
        )
    assert job.status == "SUCCEEDED"
    assert job.output is not None and job.output["video_url"].startswith(threaded.origin)
    create = next(r for r in threaded.request_log if r.path.endswith("video-synthesis"))
    assert "function" not in create.json["input"]
    assert create.json["input"]["img_url"].startswith("oss://")
