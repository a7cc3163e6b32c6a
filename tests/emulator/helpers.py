"""Helpers shared by the emulator tests (images, bodies, a fake clock, raw requests)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from PIL import Image

from emulator import Emulator

KEY = "sk-emulator-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
ASYNC = {**AUTH, "X-DashScope-Async": "enable"}
T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


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


async def create(
    http: aiohttp.ClientSession, emu: Emulator, payload: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    url = emu.base_url + "/services/aigc/video-generation/video-synthesis"
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
