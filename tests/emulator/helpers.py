"""Helpers shared by the emulator tests (images, bodies, a fake clock, raw requests)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from PIL import Image, ImageStat

from emulator import Emulator, EmulatorConfig

KEY = "sk-emulator-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
ASYNC = {**AUTH, "X-DashScope-Async": "enable"}
T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
# For the official SDK: real clock, tiny time scale. Its wait() sleeps 1 s between polls, so
# every task is made to finish well within that first second.
SDK_FAST = EmulatorConfig(
    time_scale=0.004, duration_sigma=0.0, queue_delay=0.0, api_key=KEY, render_max_side=256
)


class FakeClock:
    """Injectable clock; tests advance it instead of sleeping."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def image_bytes(width: int = 320, height: int = 240, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    img = Image.new(mode, (width, height), (200, 80, 40, 255)[: len(mode)])
    for x in range(0, width, 20):
        for y in range(height):
            img.putpixel((x, y), (20, 160, 220, 255)[: len(mode)])
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


EmulatorFactory = Callable[..., Awaitable[Emulator]]

PNG_URI = data_uri(image_bytes())


def body(model: str = "wan2.2-i2v-flash", **params: Any) -> dict[str, Any]:
    return {"model": model, "input": {"prompt": "a cat", "img_url": PNG_URI}, "parameters": params}


VIDEO_GENERATION = "video-generation"
KF2V = "image2video"


async def create(
    http: aiohttp.ClientSession,
    emu: Emulator,
    payload: Any,
    headers: dict[str, str] | None = None,
    path: str = VIDEO_GENERATION,
) -> tuple[int, dict[str, Any]]:
    url = f"{emu.base_url}/services/aigc/{path}/video-synthesis"
    sent = {"Content-Type": "application/json", **(ASYNC if headers is None else headers)}
    raw = io.BytesIO(json.dumps(payload).encode())  # BytesIO: large bodies must not warn
    async with http.post(url, data=raw, headers=sent) as r:
        return r.status, await r.json()


async def query(http: aiohttp.ClientSession, emu: Emulator, task_id: str) -> dict[str, Any]:
    async with http.get(f"{emu.base_url}/tasks/{task_id}", headers=AUTH) as r:
        assert r.status == 200
        result: dict[str, Any] = await r.json()
        return result


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of a 330 Hz tone."""
    import math
    import struct
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(seconds * rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(i / rate * 2 * math.pi * 330)))
                for i in range(frames)
            )
        )
    return buf.getvalue()


async def upload(
    http: aiohttp.ClientSession,
    emu: Emulator,
    model: str,
    name: str,
    data: bytes,
    content_type: str,
) -> tuple[int, str]:
    """getPolicy + OSS form POST exactly as the SDK does; returns (upload status, oss:// url)."""
    async with http.get(
        emu.base_url + "/uploads", params={"action": "getPolicy", "model": model}, headers=AUTH
    ) as r:
        assert r.status == 200
        policy = (await r.json())["data"]
    key = f"{policy['upload_dir']}/{name}"
    form = aiohttp.FormData()
    for field, value in (
        ("OSSAccessKeyId", policy["oss_access_key_id"]),
        ("Signature", policy["signature"]),
        ("policy", policy["policy"]),
        ("key", key),
        ("x-oss-object-acl", policy["x_oss_object_acl"]),
        ("x-oss-forbid-overwrite", policy["x_oss_forbid_overwrite"]),
        ("success_action_status", "200"),
        ("x-oss-content-type", content_type),
    ):
        form.add_field(field, value)
    form.add_field("file", io.BytesIO(data), filename=name, content_type=content_type)
    async with http.post(policy["upload_host"], data=form) as r:
        return r.status, "oss://" + key


def solid_png(color: tuple[int, int, int], width: int = 320, height: int = 240) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def clip_bytes(
    seconds: float,
    color: tuple[int, int, int] = (0, 200, 0),
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    fmt: str = "mp4",
) -> bytes:
    """A real H.264 clip of one solid colour (``fmt``: mp4, mov or matroska)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        picture = Image.new("RGB", (width, height), color)
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]  # PyAV stub gap
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


async def finish(
    http: aiohttp.ClientSession,
    emu: Emulator,
    clock: FakeClock,
    payload: dict[str, Any],
    path: str = VIDEO_GENERATION,
) -> dict[str, Any]:
    """Create, advance the clock past any run time, and return the terminal query body."""
    status, got = await create(http, emu, payload, path=path)
    assert status == 200, got
    clock.advance(10_000)
    return await query(http, emu, got["output"]["task_id"])


async def download(http: aiohttp.ClientSession, url: str) -> bytes:
    async with http.get(url) as r:
        assert r.status == 200, await r.text()
        return await r.read()


def decoded_seconds(data: bytes) -> float:
    """Length of the MP4's video stream as PyAV reports it."""
    import av

    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        assert video.duration is not None and video.time_base is not None
        return float(video.duration * video.time_base)


def frame_colors(data: bytes) -> list[tuple[float, float, float]]:
    """Mean RGB of every decoded frame, in order."""
    import av

    colors: list[tuple[float, float, float]] = []
    with av.open(io.BytesIO(data), "r") as container:
        for frame in container.decode(video=0):
            picture = frame.to_image().convert("RGB")  # type: ignore[no-untyped-call]  # PyAV stub gap
            red, green, blue = ImageStat.Stat(picture).mean
            colors.append((red, green, blue))
    return colors


def frame_times(data: bytes) -> list[float]:
    """Presentation time (s) of every decoded frame, in order."""
    import av

    with av.open(io.BytesIO(data), "r") as container:
        return [float(f.time or 0.0) for f in container.decode(video=0)]


def near(color: tuple[float, float, float], target: tuple[int, int, int], tol: float = 40) -> bool:
    return all(abs(c - t) <= tol for c, t in zip(color, target, strict=True))
