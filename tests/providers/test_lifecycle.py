"""Client ↔ emulator over real HTTP: every model from create to a playable MP4."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import av
import pytest

from core.domain.catalog import MODELS, AudioMode, Family, Region
from core.domain.tasks import MediaFile, TaskStatus
from core.ports import VideoProvider
from emulator import Emulator
from providers import DashScopeClient
from tests.providers.conftest import FakeClock, make_client, png, request


def _probe(path: Path) -> tuple[str, int, int, float, bool]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        duration = float(container.duration or 0) / 1_000_000
        return (
            video.codec_context.name,
            video.width,
            video.height,
            duration,
            bool(container.streams.audio),
        )


def test_client_satisfies_the_provider_protocol(client: DashScopeClient) -> None:
    provider: VideoProvider = client  # mypy checks the structural match
    assert provider is client


def _home(model_id: str) -> Region:
    """A region that serves the model (Beijing where it can)."""
    regions = MODELS[model_id].region_ids
    return Region.BEIJING if Region.BEIJING in regions else next(iter(regions))


@pytest.mark.parametrize("model_id", sorted(MODELS))
async def test_every_model_create_poll_download(
    model_id: str,
    session: aiohttp.ClientSession,
    emu: Emulator,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    model = MODELS[model_id]
    region = _home(model_id)
    client = make_client(session, emu.base_url, region=region)
    duration = min(model.durations_in(region))
    frames: dict[str, MediaFile] = {}
    if model.family is Family.KF2V:  # both frames, and each side at least 360 px (§5.4)
        frames = {"image": MediaFile(png(480, 360), "image/png", "a.png")}
        frames["last_frame"] = MediaFile(png(480, 360, (0, 0, 200)), "image/png", "b.png")
    info = await client.create_task(request(model_id, duration=duration, seed=42, **frames))
    assert info.status is TaskStatus.PENDING
    body = emu.tasks[info.task_id].request_body
    assert body["model"] == model.wire_id(region)
    if model.family in (Family.WAN27, Family.WAN30):
        assert body["input"]["media"][0]["type"] == "first_frame"
        assert body["input"]["media"][0]["url"].startswith("data:image/png;base64,")
        assert "img_url" not in body["input"]
    elif model.family is Family.KF2V:
        assert body["input"]["first_frame_url"].startswith("data:image/png;base64,")
        assert body["input"]["last_frame_url"].startswith("data:image/png;base64,")
    else:
        assert body["input"]["img_url"].startswith("data:image/png;base64,")
    assert body["parameters"]["seed"] == 42

    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.status is TaskStatus.SUCCEEDED, done
    assert done.error is None
    assert done.video_url is not None
    assert done.usage is not None and done.usage.seconds == duration
    assert done.orig_prompt == "a cat turns its head"
    assert done.submit_time is not None and done.end_time is not None
    assert done.submit_time.utcoffset() is not None
    assert done.submit_time.timestamp() == pytest.approx(1_767_225_600.0, abs=1)
    if model.prompt_extend_reports_actual:
        assert done.actual_prompt and done.actual_prompt.startswith("a cat turns its head")
    else:
        assert done.actual_prompt is None

    dest = tmp_path / "out" / "video.mp4"
    size = await client.download(done.video_url, dest, max_bytes=50_000_000)
    assert size == dest.stat().st_size > 0
    codec, width, height, seconds, has_audio = _probe(dest)
    assert codec == "h264"
    assert max(width, height) <= 96
    assert seconds == pytest.approx(duration, abs=0.2)
    assert has_audio == (model.audio is not AudioMode.SILENT)
    assert list(dest.parent.iterdir()) == [dest]  # no temp file left behind


async def test_singapore_sends_regional_wire_id(
    session: aiohttp.ClientSession, emu: Emulator
) -> None:
    client = make_client(session, emu.base_url, region=Region.SINGAPORE)
    info = await client.create_task(request("wanx2.1-i2v-turbo", template="flying"))
    body = emu.tasks[info.task_id].request_body
    assert body["model"] == "wan2.1-i2v-turbo"
    assert body["input"]["template"] == "flying"
    assert "prompt" not in body["input"]  # effects ignore the prompt; we do not send it


async def test_silent_flash_sends_audio_false_and_usage_reports_it(
    client: DashScopeClient, emu: Emulator, clock: FakeClock
) -> None:
    info = await client.create_task(request(sound=False, resolution="720P", duration=2))
    assert emu.tasks[info.task_id].request_body["parameters"]["audio"] is False
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.usage is not None and done.usage.sound is False
    assert done.usage.resolution_tier == 720


async def test_sound_is_only_sent_to_models_with_optional_audio(
    client: DashScopeClient, emu: Emulator
) -> None:
    info = await client.create_task(request("wan2.2-i2v-flash", sound=True))
    assert "audio" not in emu.tasks[info.task_id].request_body.get("parameters", {})


async def test_unknown_task_id_is_unknown_with_expired_error(client: DashScopeClient) -> None:
    info = await client.get_task("no-such-task")
    assert info.status is TaskStatus.UNKNOWN
    assert info.error is not None and info.error.kind.value == "expired"
