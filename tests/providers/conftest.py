"""Fixtures: a fake clock, the real emulator on 127.0.0.1, a canned-reply server, media bytes."""

from __future__ import annotations

import io
import json
import math
import struct
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from core.domain.catalog import Model, Region, find_model
from core.domain.tasks import MediaFile, TaskRequest
from emulator import Emulator, EmulatorConfig
from providers import DashScopeClient

KEY = "sk-test-0123456789abcdef-SECRET"
START = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


class FakeClock:
    """The emulator's clock: moves only when a test says so."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def listing(directory: Path) -> list[Path]:
    """Files left in ``directory`` (sync helper: tests assert nothing partial remains)."""
    return sorted(directory.iterdir())


def png(width: int = 320, height: int = 240, color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def wav(seconds: float = 4.0, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buf.getvalue()


def image_file() -> MediaFile:
    return MediaFile(png(), "image/png", "cat.png")


def model(name: str) -> Model:
    """The catalog model ``name`` (a validated job carries it; the client trusts it)."""
    found = find_model(name)
    assert found is not None, name
    return found


def request(name: str = "wan2.6-i2v-flash", **kw: Any) -> TaskRequest:
    kw.setdefault("prompt", "a cat turns its head")
    kw.setdefault("image", image_file())
    return TaskRequest(model=model(name), **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


EmulatorFactory = Callable[..., Awaitable[Emulator]]


@pytest.fixture
async def make_emulator(clock: FakeClock) -> AsyncIterator[EmulatorFactory]:
    started: list[Emulator] = []

    async def factory(**overrides: Any) -> Emulator:
        settings: dict[str, Any] = {
            "api_key": KEY,
            "clock": clock,
            "duration_sigma": 0.0,
            "queue_delay": 0.0,
            "seed": 11,
            "render_max_side": 96,
        }
        settings.update(overrides)
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        await emu.close()


@pytest.fixture
async def emu(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def make_client(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    key: str = KEY,
    region: Region = Region.BEIJING,
    attempts: int = 3,
) -> DashScopeClient:
    return DashScopeClient(
        session, api_key=key, region=region, base_url=base_url, attempts=attempts, retry_delay=0.0
    )


@pytest.fixture
def client(session: aiohttp.ClientSession, emu: Emulator) -> DashScopeClient:
    return make_client(session, emu.base_url)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class CannedServer:
    """A real HTTP server on 127.0.0.1 answering each request with the next queued reply.

    For documented DashScope answers the emulator cannot produce (403 AccessDenied.Unpurchased,
    Retry-After headers, HTML gateway pages, non-MP4 downloads).
    """

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def queue(self, status: int, body: Any, **kw: Any) -> None:
        raw = body if isinstance(body, bytes) else _json(body)
        self.replies.append(Reply(status, raw, **kw))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.seen.append((request.method, request.path_qs))
        reply = self.replies.pop(0) if self.replies else Reply(599, b"{}")
        return web.Response(
            status=reply.status,
            body=reply.body,
            content_type=reply.content_type,
            headers=reply.headers,
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


@pytest.fixture
async def canned() -> AsyncIterator[CannedServer]:
    server = CannedServer()
    await server.start()
    yield server
    await server.close()
