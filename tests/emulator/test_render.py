"""The served MP4 (§5, §6.5, §7.3): H.264, the §6.5 size rule, 30 fps, duration, AAC iff audio."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import av
import pytest

from emulator import Emulator
from tests.emulator.helpers import EmulatorFactory, FakeClock, create, data_uri, image_bytes, query

PORTRAIT = data_uri(image_bytes(750, 1000, "JPEG"), "image/jpeg")


@dataclass(frozen=True)
class Probe:
    codec: str
    width: int
    height: int
    fps: float
    seconds: float
    audio: tuple[str, ...]


def probe(data: bytes) -> Probe:
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        assert (
            video.duration is not None
            and video.time_base is not None
            and video.average_rate is not None
        )
        return Probe(
            codec=video.codec_context.name,
            width=video.width,
            height=video.height,
            fps=float(video.average_rate),
            seconds=float(video.duration * video.time_base),
            audio=tuple(s.codec_context.name for s in container.streams.audio),
        )


async def _finished_url(
    http: aiohttp.ClientSession, emu: Emulator, clock: FakeClock, payload: dict[str, Any]
) -> str:
    status, got = await create(http, emu, payload)
    assert status == 200, got
    clock.advance(10_000)
    done = await query(http, emu, got["output"]["task_id"])
    assert done["output"]["task_status"] == "SUCCEEDED"
    url: str = done["output"]["video_url"]
    return url


async def _download(http: aiohttp.ClientSession, url: str) -> bytes:
    async with http.get(url) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == "video/mp4"
        return await r.read()


@pytest.mark.parametrize(
    ("model", "img_url", "params", "expected"),
    [
        (
            "wan2.2-i2v-flash",
            PORTRAIT,
            {"resolution": "480P"},
            Probe("h264", 544, 720, 30.0, 5.0, ()),
        ),
        ("wanx2.1-i2v-turbo", PORTRAIT, {"duration": 3}, Probe("h264", 816, 1104, 30.0, 3.0, ())),
        (
            "wan2.6-i2v-flash",
            PORTRAIT,
            {"duration": 2, "resolution": "720P"},
            Probe("h264", 816, 1104, 30.0, 2.0, ("aac",)),
        ),
        (
            "wan2.6-i2v-flash",
            PORTRAIT,
            {"duration": 2, "resolution": "720P", "audio": False},
            Probe("h264", 816, 1104, 30.0, 2.0, ()),
        ),
        (
            "wan2.5-i2v-preview",
            PORTRAIT,
            {"resolution": "480P"},
            Probe("h264", 544, 720, 30.0, 5.0, ("aac",)),
        ),
        (
            "wan2.6-i2v",
            "https://example.invalid/cat.png",
            {"duration": 2},
            Probe("h264", 1920, 1072, 30.0, 2.0, ("aac",)),
        ),
    ],
)
async def test_served_mp4_matches_request(
    emu: Emulator,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    model: str,
    img_url: str,
    params: dict[str, Any],
    expected: Probe,
) -> None:
    url = await _finished_url(
        http,
        emu,
        clock,
        {"model": model, "input": {"prompt": "p", "img_url": img_url}, "parameters": params},
    )
    got = probe(await _download(http, url))
    assert (got.codec, got.width, got.height, got.fps, got.audio) == (
        expected.codec,
        expected.width,
        expected.height,
        expected.fps,
        expected.audio,
    )
    assert got.seconds == pytest.approx(expected.seconds, abs=0.1)


async def test_wan27_media_protocol_renders_with_audio(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    payload = {
        "model": "wan2.7-i2v",
        "input": {"media": [{"type": "first_frame", "url": PORTRAIT}]},
        "parameters": {"duration": 2, "resolution": "720P"},
    }
    got = probe(await _download(http, await _finished_url(http, emu, clock, payload)))
    assert (got.width, got.height, got.audio) == (816, 1104, ("aac",))


async def test_download_is_cached_and_url_expires(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    payload = {
        "model": "wan2.2-i2v-flash",
        "input": {"img_url": PORTRAIT},
        "parameters": {"resolution": "480P"},
    }
    url = await _finished_url(http, emu, clock, payload)
    first = await _download(http, url)
    assert await _download(http, url) == first
    clock.advance(86400)
    async with http.get(url) as r:
        assert r.status == 403
        assert r.content_type == "application/xml"
        assert "<Code>AccessDenied</Code>" in await r.text()


async def test_result_expiry_is_scaled(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(time_scale=0.001, render_max_side=64)
    payload = {
        "model": "wan2.2-i2v-flash",
        "input": {"img_url": PORTRAIT},
        "parameters": {"resolution": "480P"},
    }
    _, got = await create(http, emu, payload)
    clock.advance(1)  # 60 s median × 0.001
    url = (await query(http, emu, got["output"]["task_id"]))["output"]["video_url"]
    clock.advance(86.4)  # 24 h × 0.001
    async with http.get(url) as r:
        assert r.status == 403


async def test_tampered_url_is_rejected(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    payload = {
        "model": "wan2.2-i2v-flash",
        "input": {"img_url": PORTRAIT},
        "parameters": {"resolution": "480P"},
    }
    url = await _finished_url(http, emu, clock, payload)
    parts = urlsplit(url)
    query_args = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query_args["Expires"] = str(int(query_args["Expires"]) + 3600)
    async with http.get(
        f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query_args)}"
    ) as r:
        assert r.status == 403
        assert "SignatureDoesNotMatch" in await r.text()


async def test_padding_and_render_cap(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(pad_video_to_bytes=3_000_000, render_max_side=320)
    payload = {
        "model": "wan2.2-i2v-flash",
        "input": {"img_url": PORTRAIT},
        "parameters": {"resolution": "480P"},
    }
    data = await _download(http, await _finished_url(http, emu, clock, payload))
    assert len(data) == 3_000_000
    assert data.endswith(bytes(64)) and b"free" in data[-3_000_000:]
    got = probe(data)
    assert max(got.width, got.height) <= 320
    assert got.seconds == pytest.approx(5.0, abs=0.1)


async def test_render_runs_off_the_event_loop(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    payload = {
        "model": "wan2.2-i2v-flash",
        "input": {"img_url": PORTRAIT},
        "parameters": {"resolution": "480P"},
    }
    url = await _finished_url(http, emu, clock, payload)
    download = asyncio.create_task(_download(http, url))
    await asyncio.sleep(0)  # let the download request start the render
    for _ in range(3):
        assert (await query(http, emu, "x"))["output"]["task_status"] == "UNKNOWN"
    assert not download.done()  # a 150-frame render takes far longer than three queries
    got = probe(await download)
    assert (got.width, got.height) == (544, 720)


async def test_wan25_fps_is_configurable(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(wan25_fps=24, render_max_side=64)
    payload = {
        "model": "wan2.5-i2v-preview",
        "input": {"img_url": PORTRAIT},
        "parameters": {"resolution": "480P"},
    }
    got = probe(await _download(http, await _finished_url(http, emu, clock, payload)))
    assert got.fps == 24.0 and got.seconds == pytest.approx(5.0, abs=0.1)
