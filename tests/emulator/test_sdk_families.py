"""The official SDK (2.0.2) against the newer families: kf2v, wan2.7 media, Wan 3.0.

What the SDK supports: 1.x ``VideoSynthesis`` switches to the ``image2video`` path for any model
named ``*kf2v*`` and forwards ``first_frame_url``/``last_frame_url`` and a ``media`` list for any
model (uploading ``file://`` items); the v2 client speaks ``media`` (and turns ``image_url``
into a ``first_frame``) for ``wan2.7-i2v*`` only, passes ``media`` through for others, and
always posts to ``video-generation`` — it cannot reach the kf2v models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import dashscope
import pytest
import requests
from dashscope import VideoSynthesis
from dashscope.v2.errors import BadRequestError

from emulator import MODELS, Emulator
from tests.emulator.helpers import (
    KEY,
    SDK_FAST,
    clip_bytes,
    data_uri,
    decoded_seconds,
    frame_colors,
    near,
    solid_png,
)

RED, GREEN, BLUE = (220, 30, 30), (0, 200, 0), (30, 30, 220)
RED_URI, BLUE_URI = data_uri(solid_png(RED, 480, 360)), data_uri(solid_png(BLUE, 480, 360))
EXCLUSIVE = (
    "The two modes are mutually exclusive. Do not pass reference_xx and first_frame/last_frame "
    "at the same time."
)


# Tasks finish the moment they start, so the SDK's first poll already sees the result and its
# 1 s sleep never happens; time is not scaled, so results stay downloadable.
INSTANT = dataclasses.replace(
    SDK_FAST,
    time_scale=1.0,
    durations=dict.fromkeys(MODELS, 0.0),
    validation_failure_seconds=0.0,
)


@pytest.fixture
def threaded(local_only: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(INSTANT).run_in_thread() as emu:
        monkeypatch.setattr(dashscope, "base_http_api_url", emu.base_url)  # restored by monkeypatch
        yield emu


def _video(url: str) -> bytes:
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return response.content


def _create_record(emu: Emulator) -> dict[str, object]:
    record = next(r for r in emu.request_log if r.path.endswith("/video-synthesis"))
    return {"path": record.path, "headers": record.headers, "json": record.json}


def test_kf2v_with_local_files(threaded: Emulator, tmp_path: Path) -> None:
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    first.write_bytes(solid_png(RED, 480, 360))
    last.write_bytes(solid_png(BLUE, 480, 360))
    task = VideoSynthesis.async_call(
        model="wan2.2-kf2v-flash",
        prompt="red turns blue",
        first_frame_url=f"file://{first}",
        last_frame_url=f"file://{last}",
        resolution="480P",
        api_key=KEY,
    )
    assert task.status_code == 200, task
    sent = _create_record(threaded)
    assert sent["path"] == "/api/v1/services/aigc/image2video/video-synthesis"
    body = sent["json"]
    assert isinstance(body, dict) and body["input"]["first_frame_url"].startswith("oss://")
    result = VideoSynthesis.wait(task, api_key=KEY)
    assert result.output.task_status == "SUCCEEDED"
    assert (result.usage["video_duration"], result.usage["SR"]) == (5, 480)
    colors = frame_colors(_video(result.output.video_url))
    assert near(colors[0], RED) and near(colors[-1], BLUE)


def test_wan27_continuation_with_a_local_clip(threaded: Emulator, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(clip_bytes(2.0, GREEN))
    task = VideoSynthesis.async_call(
        model="wan2.7-i2v-2026-04-25",
        prompt="keep going",
        media=[
            {"type": "first_clip", "url": f"file://{clip}"},
            {"type": "last_frame", "url": BLUE_URI},
        ],
        duration=4,
        resolution="720P",
        api_key=KEY,
    )
    assert task.status_code == 200, task
    result = VideoSynthesis.wait(task, api_key=KEY)
    assert result.output.task_status == "SUCCEEDED", result
    usage = result.usage
    assert (usage["duration"], usage["input_video_duration"], usage["output_video_duration"]) == (
        4,
        2,
        2,
    )
    data = _video(result.output.video_url)
    assert decoded_seconds(data) == pytest.approx(4.0, abs=0.05)
    colors = frame_colors(data)
    assert all(near(c, GREEN) for c in colors[:60]) and near(colors[-1], BLUE)


def test_wan27_v2_client_image_url_becomes_first_frame(threaded: Emulator) -> None:
    with dashscope.Client(base_url=threaded.base_url, api_key=KEY) as client:
        job = client.videos.generate(
            model="wan2.7-i2v",
            image_url=RED_URI,
            media=[{"type": "last_frame", "url": BLUE_URI}],
            duration=2,
            resolution="720P",
            poll_interval=0.1,
            max_interval=0.2,
            timeout=30,
        )
    assert job.status == "SUCCEEDED"
    body = _create_record(threaded)["json"]
    assert isinstance(body, dict)
    assert [m["type"] for m in body["input"]["media"]] == ["first_frame", "last_frame"]
    assert job.output is not None
    colors = frame_colors(_video(job.output["video_url"]))
    assert near(colors[0], RED) and near(colors[-1], BLUE)


def test_wan30_first_last_frame_and_failed_combination(threaded: Emulator) -> None:
    task = VideoSynthesis.async_call(
        model="wan3.0-video",
        prompt="a red room turns blue",
        media=[{"type": "first_frame", "url": RED_URI}, {"type": "last_frame", "url": BLUE_URI}],
        ratio="adaptive",
        duration=2,
        resolution="480P",
        audio=False,
        api_key=KEY,
    )
    assert task.status_code == 200, task
    result = VideoSynthesis.wait(task, api_key=KEY)
    assert result.output.task_status == "SUCCEEDED"
    assert (result.usage["duration"], result.usage["fps"], result.usage["ratio"]) == (
        2.0,
        30,
        "4:3",
    )
    colors = frame_colors(_video(result.output.video_url))
    assert near(colors[0], RED) and near(colors[-1], BLUE)
    bad = VideoSynthesis.async_call(
        model="wan3.0-video-prime",
        prompt="x",
        media=[
            {"type": "first_frame", "url": RED_URI},
            {"type": "reference_image", "url": RED_URI},
        ],
        api_key=KEY,
    )
    assert bad.status_code == 200  # accepted, then FAILED (§5.5)
    failed = VideoSynthesis.wait(bad, api_key=KEY)
    assert (failed.output.task_status, failed.output.code) == ("FAILED", "InvalidParameter")
    assert failed.output.message == EXCLUSIVE


def test_wan30_v2_client_text_only(threaded: Emulator) -> None:
    with dashscope.Client(base_url=threaded.base_url, api_key=KEY) as client:
        job = client.videos.generate(
            model="wan3.0-video-prime",
            prompt="a cat runs on the grass",
            ratio="9:16",
            duration=2,
            resolution="480P",
            parameters={"audio": False},
            poll_interval=0.1,
            max_interval=0.2,
            timeout=30,
        )
    assert job.status == "SUCCEEDED"
    extra = job.usage.model_extra if job.usage is not None else None  # service-specific fields
    assert extra is not None and extra["ratio"] == "9:16"


def test_v2_client_cannot_reach_kf2v(threaded: Emulator) -> None:
    with (
        dashscope.Client(base_url=threaded.base_url, api_key=KEY) as client,
        pytest.raises(BadRequestError, match="url error"),
    ):
        client.videos.generate(
            model="wan2.2-kf2v-flash",
            extra_input={"first_frame_url": RED_URI, "last_frame_url": BLUE_URI},
            timeout=30,
        )
    assert not threaded.tasks
