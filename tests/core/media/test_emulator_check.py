"""Normalised corpus files checked by the emulator's own validation, over real HTTP on 127.0.0.1.

The emulator decodes ``data:`` URIs and OSS uploads and applies the documented rules with its own
copy of them (emulator/_rules.py, emulator/_media.py), so it judges core.media instead of agreeing
with it. Each case also shows the raw upload failing where it should, so the 200s mean something.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from core.domain.catalog import MODELS
from core.media import normalise_image, prepare_audio
from emulator import Emulator, EmulatorConfig
from tests.core.media import corpus
from tests.emulator.helpers import upload as upload_file

AUTH = {"Authorization": "Bearer k"}
ASYNC = {**AUTH, "X-DashScope-Async": "enable"}
CREATE = "/services/aigc/video-generation/video-synthesis"
T0 = 1_767_225_600.0  # the clock never moves: tasks stay queued, nothing renders


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def start(strict_2025: bool) -> Emulator:
    emu = Emulator(
        EmulatorConfig(clock=lambda: T0, enforce_rate_limits=False, strict_2025_images=strict_2025)
    )
    await emu.start()
    return emu


async def create(
    http: aiohttp.ClientSession,
    emu: Emulator,
    body: dict[str, Any],
    headers: dict[str, str] = ASYNC,
) -> tuple[int, dict[str, Any]]:
    raw = io.BytesIO(json.dumps(body).encode())  # a stream: large bodies must not warn
    sent = {"Content-Type": "application/json", **headers}
    async with http.post(emu.base_url + CREATE, data=raw, headers=sent) as r:
        return r.status, await r.json()


def body(model: str, img_url: str, **inputs: str) -> dict[str, Any]:
    return {
        "model": model,
        "input": {"prompt": "the picture comes alive", "img_url": img_url, **inputs},
        "parameters": {"resolution": MODELS[model].default_resolution, "duration": 5},
    }


@pytest.mark.parametrize("strict_2025", [False, True], ids=["rules-2026", "rules-2025"])
@pytest.mark.parametrize("model", ["wan2.6-i2v-flash", "wan2.2-i2v-flash"])
async def test_every_normalised_image_is_accepted(
    http: aiohttp.ClientSession, strict_2025: bool, model: str
) -> None:
    emu = await start(strict_2025)
    try:
        refused: dict[str, object] = {}
        cases = [(name, "original", "crop") for name in sorted(corpus.GOOD_IMAGES)]
        cases += [("photo_jpeg", "9:16", "blur"), ("tiny_emoji_png", "16:9", "crop")]
        for name, aspect, fill in cases:
            result = normalise_image(
                corpus.good_image(name), MODELS[model], aspect=aspect, fill=fill
            )
            status, got = await create(http, emu, body(model, result.data_uri()))
            if status != 200:
                refused[f"{name}/{aspect}/{fill}"] = got
        assert refused == {}
        assert len(emu.tasks) == len(cases)
    finally:
        await emu.close()


async def test_raw_uploads_that_need_normalising_are_refused(http: aiohttp.ClientSession) -> None:
    """Negative control: the emulator does reject what core.media exists to fix."""
    emu = await start(strict_2025=True)
    try:
        raw = {
            "transparent_png": ("image/png", corpus.transparent_png()),
            "tiny_emoji_png": ("image/png", corpus.good_image("tiny_emoji_png")),
            "huge_screenshot_png": ("image/png", corpus.good_image("huge_screenshot_png")),
            "animated_gif": ("image/gif", corpus.good_image("animated_gif")),
        }
        for name, (mime, data) in raw.items():
            uri = f"data:{mime};base64," + base64.b64encode(data).decode()
            status, _ = await create(http, emu, body("wan2.6-i2v-flash", uri))
            assert status == 400, name
    finally:
        await emu.close()


async def upload(
    http: aiohttp.ClientSession, emu: Emulator, model: str, name: str, data: bytes, mime: str
) -> str:
    """Temporary-file upload (reference §11): getPolicy, then the OSS form POST."""
    status, url = await upload_file(http, emu, model, name, data, mime)
    assert status == 200
    return url


async def test_prepared_audio_is_accepted_and_raw_audio_is_not(
    http: aiohttp.ClientSession,
) -> None:
    model = "wan2.6-i2v-flash"
    image = normalise_image(corpus.good_image("photo_jpeg"), MODELS[model]).data_uri()
    headers = {**ASYNC, "X-DashScope-OssResourceResolve": "enable"}
    sources = {
        "voice.m4a": corpus.encode_audio("ipod", "aac", 6),
        "voice.ogg": corpus.encode_audio("ogg", "libopus", 5, rate=48000),
        "voice.flac": corpus.encode_audio("flac", "flac", 4),
        "long.wav": corpus.encode_audio("wav", "pcm_s16le", 33, rate=16000, channels=1),
        "ok.wav": corpus.encode_audio("wav", "pcm_s16le", 5),
        "ok.mp3": corpus.encode_audio("mp3", "libmp3lame", 8),
    }
    emu = await start(strict_2025=False)
    try:
        for name, data in sources.items():
            prepared = prepare_audio(data, name)
            url = await upload(http, emu, model, prepared.filename, prepared.data, prepared.mime)
            status, got = await create(http, emu, body(model, image, audio_url=url), headers)
            assert status == 200, (name, got)
            if name.startswith("ok"):
                continue
            url = await upload(http, emu, model, "raw-" + name, data, "application/octet-stream")
            status, _ = await create(http, emu, body(model, image, audio_url=url), headers)
            assert status == 400, name  # raw m4a/ogg/flac/too long: the emulator says no
    finally:
        await emu.close()
