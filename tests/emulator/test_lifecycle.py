"""Create → PENDING → RUNNING → SUCCEEDED driven by the fake clock, and the result download."""

from __future__ import annotations

import io
import re

import aiohttp
import av

from emulator import Emulator
from tests.emulator.helpers import AUTH, FakeClock, body, create, query

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")


async def test_create_returns_pending_with_uuid_ids(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, payload = await create(http, emu, body())
    assert status == 200
    assert payload["output"]["task_status"] == "PENDING"
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["output"]["task_id"])
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["request_id"])


async def test_full_lifecycle_with_clock(
    make_emulator: object, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(queue_delay=2.0, durations={"wan2.2-i2v-flash": 60.0})  # type: ignore[operator]
    _, payload = await create(http, emu, body(resolution="480P"))
    task_id = payload["output"]["task_id"]
    first = await query(http, emu, task_id)
    assert first["output"]["task_status"] == "PENDING"
    assert STAMP.match(first["output"]["submit_time"])
    clock.advance(2.5)
    running = await query(http, emu, task_id)
    assert running["output"]["task_status"] == "RUNNING"
    assert STAMP.match(running["output"]["scheduled_time"])
    clock.advance(60)
    done = await query(http, emu, task_id)
    out = done["output"]
    assert out["task_status"] == "SUCCEEDED"
    assert STAMP.match(out["end_time"])
    assert out["orig_prompt"] == "a cat"
    assert out["actual_prompt"].startswith("a cat")
    assert done["usage"] == {"duration": 5, "SR": 480, "video_count": 1}
    async with http.get(out["video_url"]) as r:
        assert r.status == 200
        data = await r.read()
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.width, video.height) == (960, 720) or video.width > 0
        assert not container.streams.audio
    assert AUTH  # the download itself needs no Authorization header
