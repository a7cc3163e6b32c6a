"""Each model family's create request on the wire, judged by the official SDK and the emulator.

For every family the same request goes out twice to one emulator: from our client and from the
official SDK (dashscope 2.0.2, 1.x ``VideoSynthesis``: the surface that reaches every family).
Both must land on the same path with the same body, once the SDK's own quirks (``extend_prompt``,
``function``, a null prompt; reference §4.4) are set aside; the emulator must accept both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import dashscope
import pytest
from dashscope import VideoSynthesis

from core.domain.catalog import MODELS, Region
from core.domain.errors import Kind, ProviderError, ValidationError
from core.domain.tasks import MediaFile, TaskRequest, TaskStatus
from emulator import Emulator, EmulatorConfig
from providers import DashScopeClient
from tests.emulator.helpers import clip_bytes, solid_png, wav_bytes
from tests.providers.conftest import KEY, CannedServer, make_client

RED, BLUE = (220, 30, 30), (30, 30, 220)
FIRST = MediaFile(solid_png(RED, 480, 360), "image/png", "first.png")
LAST = MediaFile(solid_png(BLUE, 480, 360), "image/png", "last.png")
#: the SDK's additions to every 1.x body (reference §4.4)
SDK_QUIRKS = ("extend_prompt", "function")


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An emulator on its own thread: the SDK blocks, our client runs on the test's loop."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "DASHSCOPE_API_KEY", "DASHSCOPE_HTTP_BASE_URL",
                 "DASHSCOPE_API_REGION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # two creates of one model in the same second: Singapore kf2v allows 1 a second (§5.4)
    config = EmulatorConfig(
        api_key=KEY, queue_delay=0.0, render_max_side=96, enforce_rate_limits=False
    )
    with Emulator(config).run_in_thread() as emu:
        monkeypatch.setattr(dashscope, "base_http_api_url", emu.base_url)
        yield emu


def creates(emu: Emulator) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    return [
        (r.path, dict(r.headers), r.json)
        for r in emu.request_log
        if r.method == "POST" and r.path.endswith("/video-synthesis")
    ]


def without_quirks(body: dict[str, Any]) -> dict[str, Any]:
    inp = {k: v for k, v in body["input"].items() if k not in SDK_QUIRKS and v is not None}
    out = {**body, "input": inp}
    if not out.get("parameters"):
        out.pop("parameters", None)
    return out


async def both(
    client: DashScopeClient, emu: Emulator, request: TaskRequest, **sdk: Any
) -> tuple[tuple[str, dict[str, str], dict[str, Any]], tuple[str, dict[str, str], dict[str, Any]]]:
    """Send ``request`` with our client and ``sdk`` with the SDK; both creates as logged."""
    info = await client.create_task(request)
    assert info.status is TaskStatus.PENDING
    reply = await asyncio.to_thread(VideoSynthesis.async_call, api_key=KEY, **sdk)
    assert reply.status_code == 200, reply
    ours, theirs = creates(emu)[-2:]
    return ours, theirs


async def upload(client: DashScopeClient, model: str, media: MediaFile) -> str:
    url = await client.upload_file(MODELS[model], media)
    assert url.startswith("oss://")
    return url


async def test_wan27_first_last_frame_and_driving_audio(threaded: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(session, threaded.base_url)
        audio = await upload(client, "wan2.7-i2v", MediaFile(wav_bytes(3.0), "audio/wav", "a.wav"))
        request = TaskRequest(
            model=MODELS["wan2.7-i2v"], image=FIRST, last_frame=LAST, audio_url=audio,
            prompt="red turns blue", resolution="720P", duration=3, seed=5,
        )  # fmt: skip
        ours, theirs = await both(
            client, threaded, request,
            model="wan2.7-i2v", prompt="red turns blue", resolution="720P", duration=3, seed=5,
            media=[{"type": "first_frame", "url": _uri(FIRST)},
                   {"type": "last_frame", "url": _uri(LAST)},
                   {"type": "driving_audio", "url": audio}],
        )  # fmt: skip
    assert ours[0] == theirs[0] == "/api/v1/services/aigc/video-generation/video-synthesis"
    assert ours[2] == without_quirks(theirs[2])
    assert ours[1]["X-DashScope-OssResourceResolve"] == "enable"
    assert theirs[1]["X-DashScope-OssResourceResolve"] == "enable"


async def test_wan27_continues_an_uploaded_clip(threaded: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(session, threaded.base_url)
        clip = await upload(client, "wan2.7-i2v", MediaFile(clip_bytes(2.0), "video/mp4", "c.mp4"))
        request = TaskRequest(
            model=MODELS["wan2.7-i2v"], image=None, clip_url=clip, last_frame=LAST,
            prompt="keep going", resolution="720P", duration=5,
        )  # fmt: skip
        ours, theirs = await both(
            client, threaded, request,
            model="wan2.7-i2v", prompt="keep going", resolution="720P", duration=5,
            media=[{"type": "first_clip", "url": clip}, {"type": "last_frame", "url": _uri(LAST)}],
        )  # fmt: skip
    assert ours[2] == without_quirks(theirs[2])
    assert [m["type"] for m in ours[2]["input"]["media"]] == ["first_clip", "last_frame"]
    assert ours[1]["X-DashScope-OssResourceResolve"] == "enable"


async def test_kf2v_on_its_own_path_with_both_frames(threaded: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(session, threaded.base_url)
        request = TaskRequest(
            model=MODELS["wan2.2-kf2v-flash"], image=FIRST, last_frame=LAST,
            prompt="the camera rises", negative_prompt="people", resolution="480P",
            duration=5, seed=12345, prompt_extend=True, watermark=False,
        )  # fmt: skip
        ours, theirs = await both(
            client, threaded, request,
            model="wan2.2-kf2v-flash", prompt="the camera rises", negative_prompt="people",
            first_frame_url=_uri(FIRST), last_frame_url=_uri(LAST), resolution="480P",
            seed=12345, prompt_extend=True, watermark=False,
        )  # fmt: skip
    assert ours[0] == theirs[0] == "/api/v1/services/aigc/image2video/video-synthesis"
    assert ours[2] == without_quirks(theirs[2])
    assert "duration" not in ours[2]["parameters"]  # "fixed at 5 and cannot be changed"
    assert "X-DashScope-OssResourceResolve" not in ours[1]


async def test_kf2v_effect_takes_the_first_frame_alone(threaded: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(session, threaded.base_url, region=Region.SINGAPORE)
        request = TaskRequest(
            model=MODELS["wanx2.1-kf2v-plus"], image=FIRST, last_frame=LAST, template="solaron",
            prompt="ignored", resolution="720P",
        )  # fmt: skip
        ours, theirs = await both(
            client, threaded, request,
            model="wan2.1-kf2v-plus", first_frame_url=_uri(FIRST), template="solaron",
            resolution="720P",
        )  # fmt: skip
    assert ours[2] == without_quirks(theirs[2])
    assert ours[2]["model"] == "wan2.1-kf2v-plus"
    assert set(ours[2]["input"]) == {"first_frame_url", "template"}


async def test_wan30_ratio_and_audio_switch(threaded: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = make_client(session, threaded.base_url, region=Region.FRANKFURT)
        request = TaskRequest(
            model=MODELS["wan3.0-video"], image=FIRST, last_frame=LAST, prompt="a red room",
            resolution="720P", duration=12, ratio="adaptive", sound=False, seed=9,
        )  # fmt: skip
        ours, theirs = await both(
            client, threaded, request,
            model="wan3.0-video", prompt="a red room", resolution="720P", duration=12,
            ratio="adaptive", audio=False, seed=9,
            media=[{"type": "first_frame", "url": _uri(FIRST)},
                   {"type": "last_frame", "url": _uri(LAST)}],
        )  # fmt: skip
    assert ours[0] == theirs[0] == "/api/v1/services/aigc/video-generation/video-synthesis"
    assert ours[2] == without_quirks(theirs[2])
    assert ours[2]["parameters"]["ratio"] == "adaptive" and ours[2]["parameters"]["audio"] is False


async def test_an_illegal_combination_the_client_was_handed_is_a_clear_refusal(
    threaded: Emulator,
) -> None:
    """The client trusts validated requests; one that slipped through (first_clip with
    driving_audio, illegal per §5.3) comes back as a non-retryable input error, not a crash."""
    async with aiohttp.ClientSession() as session:
        client = make_client(session, threaded.base_url)
        clip = await upload(client, "wan2.7-i2v", MediaFile(clip_bytes(2.0), "video/mp4", "c.mp4"))
        audio = await upload(client, "wan2.7-i2v", MediaFile(wav_bytes(3.0), "audio/wav", "a.wav"))
        bad = TaskRequest(
            model=MODELS["wan2.7-i2v"], image=None, clip_url=clip, audio_url=audio, duration=5
        )
        with pytest.raises(ProviderError) as caught:
            await client.create_task(bad)
    assert (caught.value.status, caught.value.code) == (400, "InvalidParameter")
    assert caught.value.kind is Kind.INVALID_INPUT and not caught.value.retryable


async def test_wan30_failed_task_for_a_combination_is_an_input_error(
    canned: CannedServer,
) -> None:
    """Wan 3.0 reports an illegal combination as a FAILED task (reference §5.5)."""
    canned.queue(
        200,
        {"request_id": "r", "output": {"task_id": "t-1", "task_status": "FAILED",
         "code": "InvalidParameter", "message": "The two modes are mutually exclusive. Do not "
         "pass reference_xx and first_frame/last_frame at the same time."}},
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        info = await make_client(session, canned.base_url).get_task("t-1")
    assert info.status is TaskStatus.FAILED and info.error is not None
    assert info.error.kind is Kind.INVALID_INPUT and not info.error.retryable


async def test_frankfurt_needs_a_workspace_host_and_refuses_what_it_lacks(
    threaded: Emulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="workspace host"):
            DashScopeClient(session, api_key=KEY, region=Region.FRANKFURT)
        client = make_client(session, threaded.base_url, region=Region.FRANKFURT)
        with pytest.raises(ValidationError) as caught:
            await client.create_task(TaskRequest(model=MODELS["wan2.7-i2v"], image=FIRST))
    assert caught.value.key == "request.model_region"
    assert creates(threaded) == []


def _uri(media: MediaFile) -> str:
    from providers._wire import data_uri

    return data_uri(media)
