"""wan2.7-i2v ``media[]`` (§5.3): every combination, per-type limits, first_clip arithmetic and
the rendered MP4 (clip frames first, total duration, ends on the last frame)."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import pytest

from emulator import Emulator
from tests.emulator.helpers import (
    ASYNC,
    EmulatorFactory,
    FakeClock,
    clip_bytes,
    create,
    data_uri,
    decoded_seconds,
    download,
    finish,
    frame_colors,
    frame_times,
    image_bytes,
    near,
    query,
    solid_png,
    upload,
    wav_bytes,
)

MODEL = "wan2.7-i2v"
OSS = {**ASYNC, "X-DashScope-OssResourceResolve": "enable"}
RED, GREEN, BLUE = (220, 30, 30), (0, 200, 0), (30, 30, 220)
TYPES = ("first_frame", "last_frame", "driving_audio", "first_clip")
# §5.3, typed in from the reference (not imported from the emulator, which it checks).
LEGAL = {
    frozenset({"first_frame"}),
    frozenset({"first_frame", "driving_audio"}),
    frozenset({"first_frame", "last_frame"}),
    frozenset({"first_frame", "last_frame", "driving_audio"}),
    frozenset({"first_clip"}),
    frozenset({"first_clip", "last_frame"}),
}
SUBSETS = [frozenset(c) for n in range(5) for c in itertools.combinations(TYPES, n)]
CLIP_3S = clip_bytes(3.0, GREEN)


@pytest.fixture
async def emu(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator(render_max_side=64)


async def _media_urls(http: aiohttp.ClientSession, emu: Emulator) -> dict[str, str]:
    """Real inputs for every type: images as data URIs, audio and clip uploaded (no Base64)."""
    _, audio = await upload(http, emu, MODEL, "a.wav", wav_bytes(2.5), "audio/wav")
    _, clip = await upload(http, emu, MODEL, "c.mp4", CLIP_3S, "video/mp4")
    return {
        "first_frame": data_uri(solid_png(RED)),
        "last_frame": data_uri(solid_png(BLUE)),
        "driving_audio": audio,
        "first_clip": clip,
    }


def _payload(media: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    return {"model": MODEL, "input": {"prompt": "p", "media": media}, "parameters": params}


@pytest.mark.parametrize("types", SUBSETS, ids=lambda t: "+".join(sorted(t)) or "empty")
async def test_every_combination_at_create(
    emu: Emulator, http: aiohttp.ClientSession, types: frozenset[str]
) -> None:
    urls = await _media_urls(http, emu)
    media = [{"type": t, "url": urls[t]} for t in TYPES if t in types]
    status, got = await create(http, emu, _payload(media, duration=5), headers=OSS)
    if types in LEGAL:
        assert status == 200, got
        assert set(emu.tasks[got["output"]["task_id"]].spec.media_types) == types
    else:
        assert (status, got["code"]) == (400, "InvalidParameter"), got
        assert "illegal media combination" in got["message"]
        assert not emu.tasks


@pytest.mark.parametrize(
    "media",
    [
        [{"type": "first_frame", "url": "F"}, {"type": "first_frame", "url": "F"}],
        [{"type": "first_frame", "url": "F"}, {"type": "reference_image", "url": "F"}],
        [{"type": "first_clip", "url": "C"}, {"type": "first_clip", "url": "C"}],
        ["first_frame"],
    ],
    ids=["two-first-frames", "unknown-type", "two-clips", "not-an-object"],
)
async def test_duplicate_and_unknown_types(
    emu: Emulator, http: aiohttp.ClientSession, media: list[Any]
) -> None:
    for item in media:
        if isinstance(item, dict):
            item["url"] = {"F": data_uri(solid_png(RED)), "C": "https://e.invalid/c.mp4"}[
                item["url"]
            ]
    status, got = await create(http, emu, _payload(media, duration=5))
    assert (status, got["code"]) == (400, "InvalidParameter"), got


async def test_illegal_combination_can_fail_the_task_instead(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(wan27_media_errors="task")
    media = [{"type": "last_frame", "url": data_uri(solid_png(BLUE))}]
    status, got = await create(http, emu, _payload(media))
    assert status == 200, got
    clock.advance(1.0)  # validation failures end after validation_failure_seconds
    out = (await query(http, emu, got["output"]["task_id"]))["output"]
    assert (out["task_status"], out["code"]) == ("FAILED", "InvalidParameter")
    assert "illegal media combination last_frame" in out["message"]
    assert "video_url" not in out


async def test_media_is_required(emu: Emulator, http: aiohttp.ClientSession) -> None:
    payload = {"model": MODEL, "input": {"prompt": "p", "img_url": data_uri(solid_png(RED))}}
    status, got = await create(http, emu, payload)
    assert (status, got["code"]) == (400, "InvalidParameter") and "media" in got["message"]


@pytest.mark.parametrize(
    ("kind", "picture", "fragment"),
    [
        ("first_frame", image_bytes(239, 400), "[240, 8000]"),
        ("first_frame", image_bytes(1944, 240), "aspect ratio"),  # 8.1:1
        ("last_frame", image_bytes(240, 1944), "aspect ratio"),
        ("last_frame", image_bytes(300, 300, "PNG", "RGBA"), "alpha"),
    ],
)
async def test_image_limits(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, picture: bytes, fragment: str
) -> None:
    good = data_uri(solid_png(RED))
    media = [{"type": "first_frame", "url": good}]
    media = [{"type": kind, "url": data_uri(picture)}] + (media if kind == "last_frame" else [])
    status, got = await create(http, emu, _payload(media))
    assert (status, got["code"]) == (400, "InvalidParameter"), got
    assert fragment in got["message"] and kind in got["message"]


async def test_eight_to_one_images_are_accepted(emu: Emulator, http: aiohttp.ClientSession) -> None:
    media = [
        {"type": "first_frame", "url": data_uri(image_bytes(1920, 240))},
        {"type": "last_frame", "url": data_uri(image_bytes(240, 1920))},
    ]
    status, got = await create(http, emu, _payload(media))
    assert status == 200, got


async def test_image_over_20_mb(emu: Emulator, http: aiohttp.ClientSession) -> None:
    big = image_bytes(2900, 2420, "BMP")
    assert len(big) > 20 * 1024 * 1024
    media = [{"type": "first_frame", "url": data_uri(big, "image/bmp")}]
    status, got = await create(http, emu, _payload(media))
    assert status == 400 and "exceeds" in got["message"]


@pytest.mark.parametrize(
    ("seconds", "ok"), [(1.5, False), (2.5, True), (30.0, True), (31.0, False)]
)
async def test_driving_audio_two_to_thirty_seconds(
    emu: Emulator, http: aiohttp.ClientSession, seconds: float, ok: bool
) -> None:
    _, audio = await upload(http, emu, MODEL, "a.wav", wav_bytes(seconds, rate=8000), "audio/wav")
    media = [
        {"type": "first_frame", "url": data_uri(solid_png(RED))},
        {"type": "driving_audio", "url": audio},
    ]
    status, got = await create(http, emu, _payload(media), headers=OSS)
    assert (status == 200) is ok, got
    if not ok:
        assert got["code"] == "InvalidURL"


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("driving_audio", "data:audio/wav;base64,UklGRg=="),
        ("first_clip", "data:video/mp4;base64,AAAA"),
    ],
)
async def test_audio_and_clip_take_no_base64(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, url: str
) -> None:
    media = [{"type": kind, "url": url}]
    if kind == "driving_audio":
        media.insert(0, {"type": "first_frame", "url": data_uri(solid_png(RED))})
    status, got = await create(http, emu, _payload(media))
    assert (status, got["code"]) == (400, "InvalidParameter"), got


async def test_driving_audio_must_be_audio(emu: Emulator, http: aiohttp.ClientSession) -> None:
    _, fake = await upload(http, emu, MODEL, "a.mp3", solid_png(RED), "audio/mpeg")
    media = [
        {"type": "first_frame", "url": data_uri(solid_png(RED))},
        {"type": "driving_audio", "url": fake},
    ]
    status, got = await create(http, emu, _payload(media), headers=OSS)
    assert (status, got["code"]) == (400, "InvalidURL") and ".wav, .mp3" in got["message"]


@pytest.mark.parametrize(
    ("clip", "code", "fragment"),
    [
        (clip_bytes(1.5), "InvalidParameter", "[2, 10] seconds"),
        (clip_bytes(10.5, width=240, height=240, fps=10), "InvalidParameter", "[2, 10] seconds"),
        (clip_bytes(3.0, width=200, height=240), "InvalidParameter", "[240, 4096]"),
        (clip_bytes(3.0, width=2000, height=240, fps=5), "InvalidParameter", "1:8 to 8:1"),
        (clip_bytes(3.0, fmt="matroska"), "InvalidURL", ".mp4, .mov"),
        (solid_png(RED), "InvalidURL", ".mp4, .mov"),
    ],
    ids=["1.5s", "10.5s", "200px", "8.3-to-1", "mkv", "not-a-video"],
)
async def test_clip_limits(
    emu: Emulator, http: aiohttp.ClientSession, clip: bytes, code: str, fragment: str
) -> None:
    _, url = await upload(http, emu, MODEL, "c.mp4", clip, "video/mp4")
    status, got = await create(
        http, emu, _payload([{"type": "first_clip", "url": url}], duration=12), headers=OSS
    )
    assert (status, got["code"]) == (400, code), got
    assert fragment in got["message"]


async def test_mov_clip_is_accepted(emu: Emulator, http: aiohttp.ClientSession) -> None:
    _, url = await upload(http, emu, MODEL, "c.mov", clip_bytes(2.0, fmt="mov"), "video/quicktime")
    status, got = await create(
        http, emu, _payload([{"type": "first_clip", "url": url}], duration=4), headers=OSS
    )
    assert status == 200, got
    assert emu.tasks[got["output"]["task_id"]].spec.clip_seconds == pytest.approx(2.0)


@pytest.mark.parametrize("duration", [2, 3])
async def test_duration_not_longer_than_the_clip_is_refused(
    emu: Emulator, http: aiohttp.ClientSession, duration: int
) -> None:
    _, url = await upload(http, emu, MODEL, "c.mp4", CLIP_3S, "video/mp4")
    status, got = await create(
        http, emu, _payload([{"type": "first_clip", "url": url}], duration=duration), headers=OSS
    )
    assert (status, got["code"]) == (400, "InvalidParameter"), got
    assert "first_clip" in got["message"] and "total length" in got["message"]


async def test_remote_clip_counts_as_the_minimum_length(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    media = [{"type": "first_clip", "url": "https://e.invalid/c.mp4"}]
    assert (await create(http, emu, _payload(media, duration=2)))[0] == 400  # 2 s ≤ any clip
    status, got = await create(http, emu, _payload(media, duration=3))
    assert status == 200, got


async def test_continuation_output_usage_and_frames(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    _, clip = await upload(http, emu, MODEL, "c.mp4", CLIP_3S, "video/mp4")
    media = [
        {"type": "first_clip", "url": clip},
        {"type": "last_frame", "url": data_uri(solid_png(BLUE))},
    ]
    status, got = await create(
        http, emu, _payload(media, duration=5, resolution="720P"), headers=OSS
    )
    assert status == 200, got
    clock.advance(10_000)
    done = await query(http, emu, got["output"]["task_id"])
    # Billed for the whole output, the re-emitted clip included (§5.3).
    assert done["usage"] == {
        "duration": 5,
        "input_video_duration": 3,
        "output_video_duration": 2,
        "SR": 720,
        "video_count": 1,
    }
    data = await download(http, done["output"]["video_url"])
    assert decoded_seconds(data) == pytest.approx(5.0, abs=0.05)
    assert frame_times(data) == pytest.approx([i / 30 for i in range(150)], abs=1e-3)
    colors = frame_colors(data)
    assert len(colors) == 150
    assert all(near(c, GREEN) for c in colors[:90]), colors[:90]  # the clip's 3 s come first
    assert near(colors[-1], BLUE)  # … and the continuation ends on the last frame


async def test_continuation_usage_and_duration_switches(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(
        render_max_side=64, continuation_usage="output-only", reject_duration_within_clip=False
    )
    _, clip = await upload(http, emu, MODEL, "c.mp4", CLIP_3S, "video/mp4")
    status, got = await create(
        http, emu, _payload([{"type": "first_clip", "url": clip}], duration=2), headers=OSS
    )
    assert status == 200, got
    clock.advance(10_000)
    done = await query(http, emu, got["output"]["task_id"])
    assert done["usage"]["duration"] == 2
    assert (done["usage"]["input_video_duration"], done["usage"]["output_video_duration"]) == (0, 2)
    data = await download(http, done["output"]["video_url"])
    assert decoded_seconds(data) == pytest.approx(2.0, abs=0.05)
    assert all(near(c, GREEN) for c in frame_colors(data))  # only the clip, cut to 2 s


async def test_first_and_last_frame_video_ends_on_the_last_image(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    media = [
        {"type": "first_frame", "url": data_uri(solid_png(RED))},
        {"type": "last_frame", "url": data_uri(solid_png(BLUE))},
    ]
    done = await finish(http, emu, clock, _payload(media, duration=2, resolution="720P"))
    assert done["usage"]["input_video_duration"] == 0 and done["usage"]["duration"] == 2
    colors = frame_colors(await download(http, done["output"]["video_url"]))
    assert len(colors) == 60
    assert near(colors[0], RED) and near(colors[-1], BLUE)


async def test_legacy_keys_ignored_or_rejected(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    media = [{"type": "first_frame", "url": data_uri(solid_png(RED))}]
    payload = _payload(media, audio=False, shot_type="multi")
    payload["input"]["img_url"] = data_uri(solid_png(RED))
    lenient = await make_emulator()
    status, got = await create(http, lenient, payload)
    assert status == 200, got
    assert lenient.tasks[got["output"]["task_id"]].spec.has_audio  # no switch on wan2.7
    strict = await make_emulator(wan27_legacy_keys="reject")
    status, got = await create(http, strict, payload)
    assert status == 400 and "img_url" in got["message"]
    payload["input"]["template"] = "flying"
    status, got = await create(http, lenient, payload)
    assert status == 400 and "template" in got["message"]


async def test_submit_rps_and_concurrency_per_model_id(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    media = [{"type": "first_frame", "url": data_uri(solid_png(RED))}]
    emu = await make_emulator(queue_delay=0.0)
    statuses = [(await create(http, emu, _payload(media)))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    snapshot = {**_payload(media), "model": "wan2.7-i2v-2026-04-25"}
    assert (await create(http, emu, snapshot))[0] == 200  # the dated id has its own limit
    clock.advance(1.0)
    sixth = await create(http, emu, _payload(media))
    assert sixth[0] == 200
    assert emu.tasks[sixth[1]["output"]["task_id"]].status == "PENDING"  # 5 already running
    busy = await make_emulator(concurrency_mode="reject", enforce_rate_limits=False)
    statuses = [(await create(http, busy, _payload(media)))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_prompt_limit_is_5000(emu: Emulator, http: aiohttp.ClientSession) -> None:
    media = [{"type": "first_frame", "url": data_uri(solid_png(RED))}]
    payload = _payload(media)
    payload["input"]["prompt"] = "x" * 6000
    status, got = await create(http, emu, payload)
    assert status == 200, got
    assert emu.tasks[got["output"]["task_id"]].spec.prompt == "x" * 5000  # truncated, not refused
