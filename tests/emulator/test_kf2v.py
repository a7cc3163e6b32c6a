"""First+last-frame models on their own route and body (§5.4, §13), round trips over HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator import Emulator
from tests.emulator.helpers import (
    KF2V,
    EmulatorFactory,
    FakeClock,
    create,
    data_uri,
    decoded_seconds,
    download,
    finish,
    frame_colors,
    image_bytes,
    near,
    solid_png,
)
from tests.emulator.test_render import probe

RED, BLUE = (220, 30, 30), (30, 30, 220)
FIRST, LAST = data_uri(solid_png(RED, 750, 1000)), data_uri(solid_png(BLUE, 480, 360))


def _kf2v(
    model: str = "wan2.2-kf2v-flash", inp: dict[str, Any] | None = None, **params: Any
) -> dict[str, Any]:
    base = {"prompt": "the cat looks up", "first_frame_url": FIRST, "last_frame_url": LAST}
    return {"model": model, "input": {**base, **(inp or {})}, "parameters": params}


@pytest.fixture
async def emu(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator(render_max_side=96)


async def test_flash_round_trip_ends_on_the_last_frame(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    done = await finish(http, emu, clock, _kf2v(resolution="480P", seed=12345), path=KF2V)
    out = done["output"]
    assert out["task_status"] == "SUCCEEDED" and out["orig_prompt"] == "the cat looks up"
    assert out["actual_prompt"].startswith("the cat looks up")
    assert done["usage"] == {"video_duration": 5, "video_count": 1, "SR": 480}
    data = await download(http, out["video_url"])
    got = probe(data)
    assert (got.codec, got.fps, got.audio) == ("h264", 30.0, ())  # silent, 30 fps
    assert got.width / got.height == pytest.approx(544 / 720, rel=0.02)  # first frame's aspect
    assert decoded_seconds(data) == pytest.approx(5.0, abs=0.05)
    colors = frame_colors(data)
    assert near(colors[0], RED) and near(colors[-1], BLUE)


async def test_plus_usage_resolution_and_templates(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    done = await finish(http, emu, clock, _kf2v("wanx2.1-kf2v-plus"), path=KF2V)
    assert done["usage"] == {"video_duration": 5, "video_count": 1, "video_ratio": "standard"}
    status, got = await create(http, emu, _kf2v("wanx2.1-kf2v-plus", resolution="480P"), path=KF2V)
    assert status == 400 and "resolution" in got["message"]
    effect = {
        "model": "wanx2.1-kf2v-plus",
        "input": {"first_frame_url": FIRST, "last_frame_url": LAST, "template": "hanfu-1"},
    }
    status, got = await create(http, emu, effect, path=KF2V)
    assert status == 200, got
    spec = emu.tasks[got["output"]["task_id"]].spec
    assert spec.template == "hanfu-1" and not spec.has_last_frame  # last frame ignored (§13)


@pytest.mark.parametrize(
    ("model", "template"),
    [("wanx2.1-kf2v-plus", "flying"), ("wan2.2-kf2v-flash", "hanfu-1")],
)
async def test_templates_must_match_the_model(
    emu: Emulator, http: aiohttp.ClientSession, model: str, template: str
) -> None:
    status, got = await create(http, emu, _kf2v(model, {"template": template}), path=KF2V)
    assert (status, got["code"]) == (400, "InvalidParameter") and "template" in got["message"]


@pytest.mark.parametrize(
    ("inp", "params", "fragment"),
    [
        ({"first_frame_url": None}, {}, "first_frame_url"),
        ({}, {"duration": 10}, "duration"),
        ({}, {"resolution": "4K"}, "resolution"),
        ({"first_frame_url": data_uri(image_bytes(359, 400))}, {}, "[360, 2000]"),
        ({"last_frame_url": data_uri(image_bytes(2001, 400))}, {}, "[360, 2000]"),
        ({"last_frame_url": "ftp://e.invalid/x.png"}, {}, "URL"),
    ],
)
async def test_refusals(
    emu: Emulator,
    http: aiohttp.ClientSession,
    inp: dict[str, Any],
    params: dict[str, Any],
    fragment: str,
) -> None:
    status, got = await create(http, emu, _kf2v(inp=inp, **params), path=KF2V)
    assert (status, got["code"]) == (400, "InvalidParameter"), got
    assert fragment in got["message"]
    assert not emu.tasks


async def test_uncertain_switches(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    no_last = {"model": "wan2.2-kf2v-flash", "input": {"first_frame_url": FIRST}}
    big = _kf2v(inp={"last_frame_url": data_uri(image_bytes(2001, 400))})
    lenient = await make_emulator()
    assert (await create(http, lenient, no_last, path=KF2V))[0] == 200
    strict = await make_emulator(kf2v_require_last_frame=True, kf2v_2026_image_limits=True)
    status, got = await create(http, strict, no_last, path=KF2V)
    assert status == 400 and "last_frame_url" in got["message"]
    assert (await create(http, strict, big, path=KF2V))[0] == 200


async def test_each_family_answers_on_its_own_route(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, got = await create(http, emu, _kf2v())  # video-generation path
    assert (status, got["message"]) == (400, "url error, please check url!")
    legacy = {"model": "wan2.6-i2v", "input": {"img_url": FIRST}}
    status, got = await create(http, emu, legacy, path=KF2V)
    assert (status, got["message"]) == (400, "url error, please check url!")
    status, got = await create(http, emu, _kf2v(), path="text2video")
    assert (status, got["code"]) == (404, "NotFound")


@pytest.mark.parametrize(
    ("region", "model", "ok"),
    [
        ("cn-beijing", "wan2.2-kf2v-flash", True),
        ("cn-beijing", "wanx2.1-kf2v-plus", True),
        ("cn-beijing", "wan2.1-kf2v-plus", False),
        ("ap-southeast-1", "wan2.1-kf2v-plus", True),
        ("ap-southeast-1", "wanx2.1-kf2v-plus", False),
        ("ap-southeast-1", "wan2.2-kf2v-flash", False),
        ("eu-central-1", "wan2.1-kf2v-plus", False),
        ("us-east-1", "wan2.2-kf2v-flash", False),
    ],
)
async def test_regions(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, region: str, model: str, ok: bool
) -> None:
    emu = await make_emulator(region=region)
    payload = _kf2v(model, resolution="720P")
    status, got = await create(http, emu, payload, path=KF2V)
    assert (status == 200) is ok, got
    if not ok:
        assert got["message"] == "Model not exist."


@pytest.mark.parametrize(
    ("region", "model", "expected"),
    [
        ("cn-beijing", "wan2.2-kf2v-flash", [200, 200, 429]),
        ("cn-beijing", "wanx2.1-kf2v-plus", [200, 200, 429]),
        ("ap-southeast-1", "wan2.1-kf2v-plus", [200, 429, 429]),  # 1 RPS in Singapore
    ],
)
async def test_submit_rps(
    make_emulator: EmulatorFactory,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    region: str,
    model: str,
    expected: list[int],
) -> None:
    emu = await make_emulator(region=region)
    payload = _kf2v(model, resolution="720P")
    assert [(await create(http, emu, payload, path=KF2V))[0] for _ in range(3)] == expected
    clock.advance(1.0)
    assert (await create(http, emu, payload, path=KF2V))[0] == 200


async def test_concurrency_two(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(concurrency_mode="reject", enforce_rate_limits=False)
    statuses = [(await create(http, emu, _kf2v(), path=KF2V))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    queued = await make_emulator(enforce_rate_limits=False, queue_delay=0.0)
    ids = [
        (await create(http, queued, _kf2v(), path=KF2V))[1]["output"]["task_id"] for _ in range(3)
    ]
    clock.advance(0.0)
    states = [queued.tasks[i].status for i in ids]
    assert states == ["RUNNING", "RUNNING", "PENDING"]
