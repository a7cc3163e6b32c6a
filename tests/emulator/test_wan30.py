"""Wan 3.0 (§5.5): HTTP round trips, parameters, legal and illegal media, FAILED-task errors."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator import Emulator, output_size
from tests.emulator.helpers import (
    ASYNC,
    EmulatorFactory,
    FakeClock,
    create,
    data_uri,
    decoded_seconds,
    download,
    finish,
    frame_colors,
    near,
    query,
    solid_png,
    upload,
    wav_bytes,
)
from tests.emulator.test_render import probe

RED, BLUE = (220, 30, 30), (30, 30, 220)
PORTRAIT = data_uri(solid_png(RED, 750, 1000))
END = data_uri(solid_png(BLUE, 400, 300))
# The documented FAILED-task message for the one documented illegal combination (§5.5).
EXCLUSIVE = (
    "The two modes are mutually exclusive. Do not pass reference_xx and first_frame/last_frame "
    "at the same time."
)


def _w30(
    media: list[dict[str, Any]] | None = None, model: str = "wan3.0-video", **params: Any
) -> dict[str, Any]:
    inp: dict[str, Any] = {"prompt": "a cat runs on the grass"}
    if media is not None:
        inp["media"] = media
    return {"model": model, "input": inp, "parameters": params}


@pytest.fixture
async def emu(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator(render_max_side=96)


async def test_text_only_defaults(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    done = await finish(http, emu, clock, _w30(duration=2))
    assert done["output"]["task_status"] == "SUCCEEDED"
    assert done["usage"] == {
        "video_count": 1,
        "duration": 2.0,
        "input_video_duration": 0.0,
        "output_video_duration": 2.0,
        "fps": 30,
        "SR": 1080,  # 1080P by default
        "ratio": "16:9",  # adaptive without an image
    }
    assert all(isinstance(done["usage"][k], float) for k in ("duration", "output_video_duration"))
    spec = emu.tasks[done["output"]["task_id"]].spec
    assert (spec.width, spec.height) == output_size(16, 9, "1080P")
    got = probe(await download(http, done["output"]["video_url"]))
    assert got.audio == ("aac",)  # audio on by default


async def test_first_frame_adaptive_ratio_and_silence(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    payload = _w30(
        [{"type": "first_frame", "url": PORTRAIT}],
        "wan3.0-video-prime",
        resolution="720P",
        duration=3,
        audio=False,
    )
    done = await finish(http, emu, clock, payload)
    assert done["usage"]["ratio"] == "3:4" and done["usage"]["SR"] == 720
    assert done["usage"]["duration"] == 3.0
    data = await download(http, done["output"]["video_url"])
    got = probe(data)
    assert got.audio == () and got.fps == 30.0
    spec = emu.tasks[done["output"]["task_id"]].spec
    assert (spec.width, spec.height) == output_size(3, 4, "720P")
    assert got.width / got.height == pytest.approx(3 / 4, rel=0.05)
    assert decoded_seconds(data) == pytest.approx(3.0, abs=0.05)


async def test_adaptive_can_keep_the_exact_aspect(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(wan30_adaptive_snaps=False)
    status, got = await create(
        http, emu, _w30([{"type": "first_frame", "url": PORTRAIT}], resolution="720P")
    )
    assert status == 200, got
    spec = emu.tasks[got["output"]["task_id"]].spec
    assert (spec.width, spec.height, spec.ratio) == (816, 1104, "3:4")


async def test_first_and_last_frame(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    media = [{"type": "first_frame", "url": PORTRAIT}, {"type": "last_frame", "url": END}]
    done = await finish(http, emu, clock, _w30(media, duration=2, resolution="480P"))
    colors = frame_colors(await download(http, done["output"]["video_url"]))
    assert len(colors) == 60
    assert near(colors[0], RED) and near(colors[-1], BLUE)


@pytest.mark.parametrize(
    ("params", "ok"),
    [
        ({"duration": 30}, True),
        ({"duration": 2}, True),
        ({"duration": -1}, True),
        ({"duration": 1}, False),
        ({"duration": 31}, False),
        ({"duration": 5.5}, False),
        ({"resolution": "480P"}, True),
        ({"resolution": "4K"}, False),
        ({"ratio": "21:9"}, True),
        ({"ratio": "9:16"}, True),
        ({"ratio": "2:1"}, False),
        ({"audio": "no"}, False),
        ({"seed": -1}, True),
        ({"seed": -2}, False),
    ],
)
async def test_parameters(
    emu: Emulator, http: aiohttp.ClientSession, params: dict[str, Any], ok: bool
) -> None:
    status, got = await create(http, emu, _w30(**params))
    assert (status == 200) is ok, got
    if not ok:
        assert got["code"] == "InvalidParameter"


async def test_smart_duration_and_explicit_ratio(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    _, got = await create(http, emu, _w30(duration=-1, ratio="9:16", resolution="720P"))
    spec = emu.tasks[got["output"]["task_id"]].spec
    assert spec.duration == 5 and spec.ratio == "9:16"
    assert (spec.width, spec.height) == output_size(9, 16, "720P")


async def test_prompt_or_media_required(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, got = await create(http, emu, {"model": "wan3.0-video", "input": {"prompt": ""}})
    assert (status, got["code"]) == (400, "InvalidParameter")
    no_prompt = {
        "model": "wan3.0-video",
        "input": {"media": [{"type": "first_frame", "url": PORTRAIT}]},
    }
    assert (await create(http, emu, no_prompt))[0] == 200


ILLEGAL = [
    ([("first_frame", "I"), ("reference_image", "I")], EXCLUSIVE),
    ([("last_frame", "I"), ("reference_video", "V")], EXCLUSIVE),
    ([("first_frame", "I"), ("reference_audio", "A")], EXCLUSIVE),
    ([("first_frame", "I"), ("link", "L")], EXCLUSIVE),
    ([("first_frame", "I"), ("first_frame", "I")], "at most 1"),
    ([("reference_image", "I")] * 11, "at most 10"),
    ([("reference_video", "V")] * 6, "at most 5"),
    ([("file", "F"), ("link", "L")], "file and link"),
    ([("driving_audio", "A")], "unsupported media type"),
]
_URLS = {
    "I": PORTRAIT,
    "V": "https://e.invalid/v.mp4",
    "A": "https://e.invalid/a.mp3",
    "L": "https://e.invalid/page",
    "F": "https://e.invalid/brief.pdf",
}


@pytest.mark.parametrize(("items", "message"), ILLEGAL)
async def test_illegal_media_fails_the_task(
    emu: Emulator,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    items: list[tuple[str, str]],
    message: str,
) -> None:
    media = [{"type": t, "url": _URLS[u]} for t, u in items]
    status, got = await create(http, emu, _w30(media))
    assert status == 200, got  # accepted at create (§5.5) …
    before = await query(http, emu, got["output"]["task_id"])
    assert before["output"]["task_status"] == "RUNNING"
    clock.advance(1.0)
    out = (await query(http, emu, got["output"]["task_id"]))["output"]
    assert (out["task_status"], out["code"]) == ("FAILED", "InvalidParameter")  # … then FAILED
    assert message in out["message"]
    if message == EXCLUSIVE:
        assert out["message"] == EXCLUSIVE


async def test_prompt_extend_required_with_file(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    _, got = await create(
        http, emu, _w30([{"type": "file", "url": _URLS["F"]}], prompt_extend=False)
    )
    clock.advance(1.0)
    out = (await query(http, emu, got["output"]["task_id"]))["output"]
    assert out["task_status"] == "FAILED" and "prompt_extend" in out["message"]


async def test_illegal_media_can_be_refused_at_create(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(wan30_media_errors="create")
    media = [{"type": "first_frame", "url": PORTRAIT}, {"type": "reference_image", "url": PORTRAIT}]
    status, got = await create(http, emu, _w30(media))
    assert (status, got["code"]) == (400, "InvalidParameter") and EXCLUSIVE in got["message"]


async def test_references_combine(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    _, sound = await upload(http, emu, "wan3.0-video", "v.wav", wav_bytes(2.0), "audio/wav")
    media = [
        {"type": "reference_image", "url": PORTRAIT},
        {"type": "reference_image", "url": END},
        {"type": "reference_audio", "url": sound},
        {"type": "link", "url": _URLS["L"]},
    ]
    status, got = await create(
        http,
        emu,
        _w30(media, duration=4),
        headers={**ASYNC, "X-DashScope-OssResourceResolve": "enable"},
    )
    assert status == 200, got
    clock.advance(10_000)
    assert (await query(http, emu, got["output"]["task_id"]))["output"][
        "task_status"
    ] == "SUCCEEDED"


async def test_reference_audio_totals_at_most_15_seconds(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    _, sound = await upload(
        http, emu, "wan3.0-video", "v.wav", wav_bytes(8.0, rate=8000), "audio/wav"
    )
    media = [{"type": "reference_audio", "url": sound}] * 2
    status, got = await create(
        http, emu, _w30(media), headers={**ASYNC, "X-DashScope-OssResourceResolve": "enable"}
    )
    assert status == 400 and "15" in got["message"]


@pytest.mark.parametrize(
    "region",
    ["cn-beijing", "ap-southeast-1", "us-east-1", "eu-central-1", "ap-northeast-1", "cn-hongkong"],
)
async def test_available_in_all_six_regions(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, region: str
) -> None:
    emu = await make_emulator(region=region)
    assert (await create(http, emu, _w30(model="wan3.0-video-prime")))[0] == 200


async def test_rate_limits_default_and_override(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator()
    assert [(await create(http, emu, _w30()))[0] for _ in range(6)] == [200] * 5 + [429]
    assert (await create(http, emu, _w30(model="wan3.0-video-prime")))[0] == 200  # own limit
    tight = await make_emulator(model_limits={"wan3.0-video": (1, 1)})
    clock.advance(1.0)
    first = await create(http, tight, _w30())
    assert first[0] == 200 and (await create(http, tight, _w30()))[0] == 429
    clock.advance(1.0)
    second = await create(http, tight, _w30())
    states = {
        tight.tasks[first[1]["output"]["task_id"]].status,
        tight.tasks[second[1]["output"]["task_id"]].status,
    }
    assert states == {"RUNNING", "PENDING"}  # one at a time: the second waits in the queue
