"""Issue 14 round trips: the engine, the real client and the emulator, one per model family.

An end image (wan2.7, kf2v, Wan 3.0), a clip continued by wan2.7 (uploaded first, billed for
the whole output), Wan 3.0 with an unknown and an operator-set price, and a Frankfurt refusal.
The delivered MP4s are decoded: their length is the requested total, their first and last
frames are the images asked for.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench._support import SimClock
from core.domain.catalog import Region
from core.domain.errors import ValidationError
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.pricing import PriceOverrides
from tests.core.fakes import RecordingPort
from tests.e2e.engine_stack import Stack, engine_stack
from tests.e2e.test_engine_on_emulator import drive
from tests.emulator.helpers import clip_bytes, decoded_seconds, frame_colors, near, solid_png

RED, GREEN, BLUE = (220, 30, 30), (0, 200, 0), (30, 30, 220)
CHAT = ChatRef(platform="discord", user="u1", channel="c1", guild="g1")


def spec(model: str, **kw: object) -> JobSpec:
    fields: dict[str, object] = {"prompt": "red turns blue", "resolution": "", "duration": 0}
    return JobSpec(model=model, **{**fields, **kw})  # type: ignore[arg-type]  # test helper


def creates(stack: Stack) -> list[tuple[str, dict[str, str], dict[str, object]]]:
    return [
        (r.path, dict(r.headers), r.json)
        for r in stack.emulator.request_log
        if r.method == "POST" and r.path.endswith("/video-synthesis")
    ]


async def delivered(stack: Stack, view: JobView) -> tuple[JobView, bytes]:
    port = RecordingPort()
    await drive(stack, port, [view.id])
    assert [r.id for r in port.results] == [view.id], port.failures
    done = port.results[0]
    assert done.video_path is not None
    return done, await asyncio.to_thread(Path(done.video_path).read_bytes)


async def test_wan27_ends_on_the_end_image(tmp_path: Path) -> None:
    async with engine_stack(tmp_path, SimClock()) as stack:
        view = await stack.service.submit(
            spec=spec("wan2.7-i2v", resolution="720P", duration=3),
            image=solid_png(RED, 480, 360),
            last_frame=solid_png(BLUE, 480, 360),
            chat=CHAT,
        )
        assert view.last_frame and view.cost_estimate == pytest.approx(1.8)
        done, video = await delivered(stack, view)
        [(path, _, body)] = creates(stack)
        assert path == "/api/v1/services/aigc/video-generation/video-synthesis"
        media = body["input"]["media"]  # type: ignore[index]
        assert [m["type"] for m in media] == ["first_frame", "last_frame"]
        assert all(m["url"].startswith("data:image/png;base64,") for m in media)
        assert "audio" not in body["parameters"]  # type: ignore[operator]  # no such switch on wan2.7
        colors = frame_colors(video)
        assert near(colors[0], RED) and near(colors[-1], BLUE)
        assert decoded_seconds(video) == pytest.approx(3.0, abs=0.1)
        assert done.cost == pytest.approx(1.8)


async def test_a_clip_is_uploaded_continued_and_billed_for_the_whole_output(
    tmp_path: Path,
) -> None:
    """wan2.7 ``first_clip``: the clip goes to the temporary storage first; the create names
    its oss:// URL (with the resolve header); duration 6 = the 3 s clip + 3 s new, billed 6 s."""
    async with engine_stack(tmp_path, SimClock()) as stack:
        view = await stack.service.submit(
            spec=spec("wan2.7-i2v", resolution="720P", duration=6),
            clip=clip_bytes(3.0, GREEN),
            last_frame=solid_png(BLUE),
            chat=CHAT,
        )
        assert view.clip_seconds == pytest.approx(3.0, abs=0.05)
        # the estimate is the whole output (6 s × 0.6 CNY), not the 3 new seconds
        assert (view.cost_estimate, view.unit_price) == (pytest.approx(3.6), 0.6)
        done, video = await delivered(stack, view)
        log = stack.emulator.request_log
        policy = next(i for i, r in enumerate(log) if r.path == "/api/v1/uploads")
        [(_, headers, body)] = creates(stack)
        create = next(i for i, r in enumerate(log) if r.path.endswith("/video-synthesis"))
        assert policy < create
        media = body["input"]["media"]  # type: ignore[index]
        assert [m["type"] for m in media] == ["first_clip", "last_frame"]
        assert media[0]["url"].startswith("oss://") and media[0]["url"].endswith(".mp4")
        assert headers.get("X-DashScope-OssResourceResolve") == "enable"
        assert body["parameters"]["duration"] == 6  # type: ignore[index]
        assert decoded_seconds(video) == pytest.approx(6.0, abs=0.1)
        colors = frame_colors(video)
        assert near(colors[0], GREEN) and near(colors[-1], BLUE)
        assert done.usage_seconds == 6.0 and done.cost == pytest.approx(3.6)


async def test_a_continuation_not_longer_than_its_clip_is_refused_before_anything(
    tmp_path: Path,
) -> None:
    async with engine_stack(tmp_path, SimClock()) as stack:
        with pytest.raises(ValidationError) as caught:
            await stack.service.submit(
                spec=spec("wan2.7-i2v", duration=3), clip=clip_bytes(3.0), chat=CHAT
            )
        assert caught.value.key == "clip.duration_within"
        with pytest.raises(ValidationError) as both:
            await stack.service.submit(
                spec=spec("wan2.7-i2v", duration=8), image=solid_png(RED), clip=clip_bytes(3.0),
                chat=CHAT,
            )  # fmt: skip
        assert both.value.key == "media.combination"
        assert both.value.params["given"] == "image + clip"
        assert await stack.store.jobs_with_status(list(JobStatus)) == []
        assert stack.emulator.request_log == []


async def test_kf2v_goes_to_its_own_path_and_makes_five_silent_seconds(tmp_path: Path) -> None:
    async with engine_stack(tmp_path, SimClock()) as stack:
        view = await stack.service.submit(
            spec=spec("wan2.2-kf2v-flash", resolution="480P"),
            image=solid_png(RED, 480, 360),
            last_frame=solid_png(BLUE, 480, 360),
            chat=CHAT,
        )
        done, video = await delivered(stack, view)
        [(path, _, body)] = creates(stack)
        assert path == "/api/v1/services/aigc/image2video/video-synthesis"
        inp, params = body["input"], body["parameters"]
        assert inp["first_frame_url"].startswith("data:image/")  # type: ignore[index]
        assert inp["last_frame_url"].startswith("data:image/")  # type: ignore[index]
        assert "duration" not in params and "audio" not in params  # type: ignore[operator]
        colors = frame_colors(video)
        assert near(colors[0], RED) and near(colors[-1], BLUE)
        assert decoded_seconds(video) == pytest.approx(5.0, abs=0.1)
        assert done.cost == pytest.approx(0.5)  # 5 s × 0.10 CNY at 480P


async def test_wan30_with_no_published_price_says_unknown(tmp_path: Path) -> None:
    async with engine_stack(tmp_path, SimClock()) as stack:
        view = await stack.service.submit(
            spec=spec("wan3.0-video-prime", resolution="480P", duration=4, sound=False),
            image=solid_png(RED, 480, 360),
            last_frame=solid_png(BLUE, 480, 360),
            chat=CHAT,
        )
        assert (view.price_known, view.unit_price, view.cost_estimate) == (False, None, 0.0)
        assert stack.service.quote(view.spec).cost is None
        done, video = await delivered(stack, view)
        [(path, _, body)] = creates(stack)
        assert path.endswith("/video-generation/video-synthesis")
        params = body["parameters"]
        assert (params["ratio"], params["audio"], params["duration"]) == ("adaptive", False, 4)  # type: ignore[index]
        assert [m["type"] for m in body["input"]["media"]] == ["first_frame", "last_frame"]  # type: ignore[index]
        assert decoded_seconds(video) == pytest.approx(4.0, abs=0.1)
        assert done.usage_seconds == 4.0 and done.cost is None


async def test_wan30_at_the_operators_price(tmp_path: Path) -> None:
    overrides = PriceOverrides.parse({"wan3.0-video": {"480P": 0.25}})
    async with engine_stack(tmp_path, SimClock(), price_overrides=overrides) as stack:
        view = await stack.service.submit(
            spec=spec("wan3.0-video", resolution="480P", duration=2, ratio="1:1"),
            image=solid_png(RED, 480, 360),
            chat=CHAT,
        )
        assert (view.price_known, view.cost_estimate) == (True, pytest.approx(0.5))
        done, _ = await delivered(stack, view)
        assert done.cost == pytest.approx(0.5)
        [(_, _, body)] = creates(stack)
        assert body["parameters"]["ratio"] == "1:1"  # type: ignore[index]


async def test_frankfurt_refuses_a_model_it_lacks_before_anything(tmp_path: Path) -> None:
    async with engine_stack(tmp_path, SimClock(), region=Region.FRANKFURT) as stack:
        with pytest.raises(ValidationError) as caught:
            await stack.service.submit(
                spec=spec("wan2.7-i2v"), image=solid_png(RED), last_frame=solid_png(BLUE), chat=CHAT
            )
        assert caught.value.key == "request.model_region_here"
        assert caught.value.params["region"] == "eu-central-1"
        with pytest.raises(ValidationError) as seven:
            await stack.service.submit(
                spec=spec("wan2.6-i2v", duration=7), image=solid_png(RED), chat=CHAT
            )
        assert seven.value.key == "request.duration_region"
        assert await stack.store.jobs_with_status(list(JobStatus)) == []
        assert stack.emulator.request_log == []
