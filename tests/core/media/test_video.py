"""probe_video, poster_frame and fit_video on MP4s generated with PyAV, judged by decoding them.

The issue's case is a 1080P 10 s result over Discord's 10 MiB; here a 640×360 3 s clip of noisy
motion (~13 MB, the same bits per pixel problem) is fitted under a proportionally smaller limit.
The full-size case is ``bench/bench_media.py``'s job.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from PIL import Image

from core.domain.errors import Input
from core.media import VideoError, fit_video, poster_frame, probe_video
from core.media.video import MIN_VIDEO_BITRATE, WATCHABLE_BPP, plan_fit
from tests.core.media import corpus


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "noisy.mp4"
    return corpus.make_video(path, 640, 360, 3.0)


@pytest.fixture(scope="module")
def clip720(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "noisy720.mp4"
    return corpus.make_video(path, 1280, 720, 1.0)


def decode_all(path: Path) -> tuple[int, float, int]:
    """(video frames, audio seconds, audio frames) by decoding every packet: does it play?"""
    frames = audio_frames = 0
    samples = 0
    rate = 1
    with av.open(str(path)) as container:
        streams = [container.streams.video[0], *container.streams.audio[:1]]
        for frame in container.decode(*streams):
            if isinstance(frame, av.VideoFrame):
                frames += 1
            elif isinstance(frame, av.AudioFrame):
                audio_frames += 1
                samples += frame.samples
                rate = frame.sample_rate
    return frames, samples / rate, audio_frames


def test_probe_reports_what_the_file_is(clip: Path) -> None:
    info = probe_video(clip)
    assert (info.codec, info.width, info.height) == ("h264", 640, 360)
    assert info.fps == pytest.approx(30.0)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert (info.has_audio, info.audio_codec) == (True, "aac")
    assert info.size_bytes == clip.stat().st_size > 5_000_000
    assert info.frames == 90


def test_fit_under_a_limit_keeps_codecs_duration_and_plays(clip: Path, tmp_path: Path) -> None:
    source = probe_video(clip)
    limit = 600_000  # ~13 MB clip into 600 kB: as tight as 1080P 10 s into 10 MiB, per pixel
    dest = tmp_path / "fitted.mp4"
    result = fit_video(clip, dest, limit)
    assert result is not None
    assert result.path == dest and result.reencoded and not result.scaled
    assert result.size_bytes == dest.stat().st_size <= limit
    info = probe_video(dest)
    assert (info.codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (640, 360)
    assert info.duration == pytest.approx(source.duration, abs=0.1)
    frames, audio_seconds, _ = decode_all(dest)
    assert frames == source.frames == 90  # every frame decodes
    assert audio_seconds == pytest.approx(source.duration, abs=0.1)
    assert not list(tmp_path.glob("*.part"))


def test_tight_budget_scales_down_instead_of_smearing(clip720: Path, tmp_path: Path) -> None:
    source = probe_video(clip720)
    limit = 175_000
    target = plan_fit(source, limit)
    assert target is not None and target.height < 720
    result = fit_video(clip720, tmp_path / "small.mp4", limit)
    assert result is not None and result.scaled
    assert result.size_bytes <= limit
    assert (result.width, result.height) == (960, 540)
    assert result.width % 2 == result.height % 2 == 0
    assert result.video_bitrate / (960 * 540 * source.fps) >= WATCHABLE_BPP
    frames, _, _ = decode_all(result.path)
    assert frames == source.frames


def test_hopeless_budget_returns_none(clip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "never.mp4"
    assert fit_video(clip, dest, 40_000) is None
    assert not dest.exists() and not list(tmp_path.glob("*.part"))
    info = probe_video(clip)
    assert plan_fit(info, 40_000) is None
    # just above the floor it is allowed again
    generous = int((MIN_VIDEO_BITRATE * 2 + 64_000) * info.duration / 8) + 200_000
    assert plan_fit(info, generous) is not None


def test_file_that_fits_is_copied_untouched(clip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.mp4"
    result = fit_video(clip, dest, clip.stat().st_size + 1)
    assert result is not None and not result.reencoded
    assert dest.read_bytes() == clip.read_bytes()


def test_silent_video_stays_silent(tmp_path: Path) -> None:
    src = corpus.make_video(tmp_path / "silent.mp4", 320, 240, 1.0, audio=False)
    result = fit_video(src, tmp_path / "out.mp4", src.stat().st_size // 3)
    assert result is not None and result.audio_bitrate == 0
    info = probe_video(result.path)
    assert not info.has_audio and info.codec == "h264"
    assert info.duration == pytest.approx(1.0, abs=0.1)


def test_poster_frame_is_a_small_jpeg_of_the_first_frame(clip: Path) -> None:
    data = poster_frame(clip, max_side=320)
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and max(im.size) == 320 and im.size == (320, 180)


def test_unreadable_or_missing_files_raise_video_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    for path in (junk, tmp_path / "missing.mp4"):
        with pytest.raises(VideoError) as err:
            probe_video(path)
        assert err.value.subject is Input.OUTPUT
    with pytest.raises(VideoError):
        fit_video(junk, tmp_path / "out.mp4", 1_000_000)
    audio_only = tmp_path / "audio.mp4"
    audio_only.write_bytes(corpus.encode_audio("ipod", "aac", 1.0))
    with pytest.raises(VideoError, match="no video"):
        probe_video(audio_only)
    with pytest.raises(VideoError):
        poster_frame(audio_only)
