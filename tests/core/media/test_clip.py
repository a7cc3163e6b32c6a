"""check_clip and cut_last on real MP4/MOV files made with PyAV and judged by decoding them."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from core.domain.errors import Input, ValidationError
from core.media.clip import (
    CLIP_LIMITS,
    ClipLimits,
    check_clip,
    check_clip_file,
    clip_size,
    looks_like_video,
)
from core.media.extend import cut_last
from tests.core.media import corpus


def refusal(data: bytes, limits: ClipLimits = CLIP_LIMITS) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        check_clip(data, limits)
    assert err.value.subject is Input.CLIP
    return err.value


def decode(path: Path) -> tuple[list[int], float]:
    """(grey level of every video frame, seconds of sound) by decoding the whole file."""
    greys: list[int] = []
    samples = rate = 0
    with av.open(str(path), "r") as container:
        for frame in container.decode(*container.streams.video[:1], *container.streams.audio[:1]):
            if isinstance(frame, av.VideoFrame):
                greys.append(frame.to_image().convert("L").getpixel((4, 4)))  # type: ignore[no-untyped-call]  # unannotated in PyAV's stub
            elif isinstance(frame, av.AudioFrame):
                samples += frame.samples
                rate = frame.sample_rate
    return greys, samples / rate if rate else 0.0


# ------------------------------------------------------------------ check_clip
@pytest.mark.parametrize(("fmt", "kind"), [("mp4", "mp4"), ("mov", "mov")])
def test_mp4_and_mov_within_limits_pass(tmp_path: Path, fmt: str, kind: str) -> None:
    path = corpus.ramp_video(tmp_path / f"clip.{fmt}", 320, 240, 3.0, fmt=fmt)
    info = check_clip(path.read_bytes())
    assert (info.container, info.codec, info.width, info.height) == (kind, "h264", 320, 240)
    assert info.seconds == pytest.approx(3.0, abs=0.1)
    assert info.has_audio and info.fps == pytest.approx(10.0)
    assert info == check_clip_file(path)


@pytest.mark.parametrize(
    ("size", "seconds", "key", "params"),
    [
        ((320, 240), 1.4, "clip.too_short", {"seconds": 1.4, "min_seconds": 2.0}),
        ((320, 240), 10.6, "clip.too_long", {"seconds": 10.6, "max_seconds": 10.0}),
        ((320, 200), 2.5, "clip.size", {"width": 320, "height": 200}),
        ((4112, 528), 2.0, "clip.size", {"width": 4112, "height": 528}),
        ((2000, 240), 2.0, "clip.aspect", {"width": 2000, "height": 240}),
    ],
    ids=["too-short", "too-long", "side-too-small", "side-too-large", "beyond-8-to-1"],
)
def test_out_of_limits_is_refused_with_the_numbers(
    tmp_path: Path, size: tuple[int, int], seconds: float, key: str, params: dict[str, object]
) -> None:
    path = corpus.ramp_video(tmp_path / "clip.mp4", *size, seconds, fps=5, audio=False)
    err = refusal(path.read_bytes())
    assert (err.key, err.params) == (key, params)
    assert str(params[next(iter(params))]).rstrip("0").rstrip(".") in err.message


def test_other_containers_are_refused_by_their_bytes(tmp_path: Path) -> None:
    three_gp = corpus.ramp_video(tmp_path / "clip.3gp", 320, 240, 3.0, fmt="3gp", audio=False)
    err = refusal(three_gp.read_bytes())
    assert err.key == "clip.format" and "MP4" in err.message
    webm = tmp_path / "clip.webm"
    with av.open(str(webm), "w", format="webm") as out:
        vs = out.add_stream("libvpx-vp9", rate=5)
        vs.width, vs.height, vs.pix_fmt = 320, 240, "yuv420p"
        for i in range(15):
            frame = av.VideoFrame(320, 240, "yuv420p")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    err = refusal(webm.read_bytes())
    assert err.key == "clip.unreadable" and "not a video" in err.message


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda: b"", "clip.empty"),
        (lambda: corpus.encode_audio("ipod", "aac", 4.0), "clip.no_video"),
        (lambda: corpus.encode_audio("mp3", "libmp3lame", 4.0), "clip.unreadable"),
        (lambda: b"ffconcat version 1.0\nfile data/media/videos/job-17.mp4\n", "clip.unreadable"),
        (lambda: corpus.save(corpus.photo(320, 240), "PNG"), "clip.unreadable"),
    ],
    ids=["empty", "m4a", "mp3", "concat-script", "picture"],
)
def test_what_is_not_a_video_is_refused(make: object, key: str) -> None:
    assert callable(make)
    assert refusal(make()).key == key


def test_too_many_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    data = corpus.ramp_video(tmp_path / "clip.mp4", 320, 240, 3.0).read_bytes()
    small = ClipLimits(max_bytes=len(data) - 1)
    err = refusal(data, small)
    assert err.key == "clip.too_big" and set(err.params) == {"size_mb", "limit_mb"}


def test_clip_size_brings_sides_into_range() -> None:
    assert clip_size(320, 240) == (320, 240)
    assert clip_size(320, 180) == (426, 240)  # upscaled: the short side reaches 240
    assert clip_size(7680, 4320) == (4096, 2304)  # downscaled: the long side is 4096
    assert clip_size(640, 360, ClipLimits(min_side=100, max_side=320)) == (320, 180)


# ------------------------------------------------------------------ cut_last
def test_last_ten_seconds_of_a_result_start_on_the_exact_frame(tmp_path: Path) -> None:
    src = corpus.ramp_video(tmp_path / "result.mp4", 320, 240, 15.0)  # frame i has grey i
    dest = tmp_path / "clip.mp4"
    info = cut_last(src, dest)
    assert check_clip(dest.read_bytes()) == info  # valid as first_clip, judged by its bytes
    assert info.seconds == pytest.approx(10.0, abs=0.15)
    greys, sound = decode(dest)
    assert len(greys) == 100
    assert abs(greys[0] - 50) <= 2 and abs(greys[-1] - 149) <= 2  # frames 50..149 of 0..149
    assert sound == pytest.approx(10.0, abs=0.1)
    assert not dest.with_name("clip.mp4.part").exists()


def test_a_short_result_is_taken_whole_and_a_shorter_cut_can_be_asked(tmp_path: Path) -> None:
    src = corpus.ramp_video(tmp_path / "result.mp4", 320, 240, 5.0)
    whole = cut_last(src, tmp_path / "whole.mp4")
    assert whole.seconds == pytest.approx(5.0, abs=0.15)
    assert decode(tmp_path / "whole.mp4")[0][0] <= 2
    part = cut_last(src, tmp_path / "part.mp4", seconds=3.0)
    assert part.seconds == pytest.approx(3.0, abs=0.15)
    assert abs(decode(tmp_path / "part.mp4")[0][0] - 20) <= 2


def test_a_small_result_is_scaled_up_into_the_limits(tmp_path: Path) -> None:
    src = corpus.ramp_video(tmp_path / "result.mp4", 320, 180, 3.0, audio=False)
    info = cut_last(src, tmp_path / "clip.mp4")
    assert (info.width, info.height, info.has_audio) == (426, 240, False)


def test_a_result_too_short_to_continue_is_refused(tmp_path: Path) -> None:
    src = corpus.ramp_video(tmp_path / "result.mp4", 320, 240, 1.5)
    dest = tmp_path / "clip.mp4"
    with pytest.raises(ValidationError) as err:
        cut_last(src, dest)
    assert err.value.key == "clip.too_short" and "at least 2 s" in err.value.message
    assert not dest.exists()
    with pytest.raises(ValidationError) as err:
        cut_last(corpus.ramp_video(tmp_path / "r2.mp4", 320, 240, 4.0), dest, seconds=1.0)
    assert err.value.key == "clip.too_short"


# ------------------------------------------------------------------ looks_like_video
def test_a_video_is_told_from_a_picture_by_its_first_bytes(tmp_path: Path) -> None:
    """Issue 14: a video given where the image goes (the CLI) is a clip to continue."""
    for fmt in ("mp4", "mov"):
        path = corpus.ramp_video(tmp_path / f"v.{fmt}", 320, 240, 2.0, fmt=fmt)
        assert looks_like_video(path.read_bytes())
    old_quicktime = b"\x00\x00\x00\x08wide" + b"\x00" * 64  # before ftyp existed
    assert looks_like_video(old_quicktime)
    assert not looks_like_video(corpus.heic_like())  # an ISO file, but a photo
    assert not looks_like_video(corpus.good_image("transparent_png"))
    assert not looks_like_video(corpus.exif_rotated_jpeg())
    assert not looks_like_video(b"")
