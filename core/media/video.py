"""Result videos: probe them, take a poster frame, and fit them under an upload limit.

A 1080P or 10–15 s Wan result often exceeds Discord's default 10 MiB upload limit, and the
DashScope link dies after 24 h, so the bot re-encodes instead of only linking. :func:`fit_video`
re-encodes with H.264 (capped CRF: quality-driven, with a VBV cap set from the bitrate that the
duration allows; a fast x264 configuration, see :data:`FIT_X264`) and AAC, keeps the frame rate
and duration, and lowers the resolution only when the bitrate per pixel would make the picture
mush. It verifies the size and, on a rare overshoot,
tries again with a lower cap. All functions are CPU-bound: call them through
:class:`core.media.pool.MediaPool`.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
from PIL import Image

from core.domain.errors import AnimateError, Input, Kind
from core.media._demux import VIDEO_DEMUXERS, open_path

log = logging.getLogger(__name__)

#: Container overhead allowance (moov index, ADTS-free AAC framing): 1.5 % plus 32 KiB.
_OVERHEAD_RATIO = 0.985
_OVERHEAD_FIXED = 32 * 1024
#: Bits per pixel per frame below which H.264 at this preset turns visibly blocky; below it the
#: picture is scaled down instead (about 2.5 Mbit/s at 1080p30, 1.1 Mbit/s at 720p30).
WATCHABLE_BPP = 0.04
#: Under this video bitrate even a small picture is not worth watching: give up (link instead).
MIN_VIDEO_BITRATE = 150_000
#: Short sides tried when scaling down, largest first (never upscaled).
_LADDER = (1080, 720, 540, 480, 360)
_AUDIO_BITRATES = (128_000, 96_000, 64_000)
_MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class X264:
    """Encoder settings for :func:`fit_video` (capped CRF: ``crf`` under the budget's VBV cap)."""

    preset: str
    crf: str
    params: str = ""  # x264-params overriding the preset, "key=value:key=value"


#: ultrafast is fast because it searches little (no b-frames, no lookahead, one reference,
#: diamond motion search) and looks bad because it also drops CABAC and the deblocking filter;
#: those two are turned back on (CABAC saves 10-15 % of the bits, a light deblock hides block
#: edges). Measured by bench/bench_media.py against veryfast/CRF 23 on a noisy 1080P 10 s clip
#: and on smooth panning footage, at budgets from 1 to 10 MiB: about half the CPU time and an
#: equal or higher SSIM against the source in every case; CRF 20 lets it use the budget that
#: CRF 23 left unspent.
FIT_X264 = X264("ultrafast", "20", "cabac=1:deblock=1,-1,-1")
#: The settings before the change above, kept as the benchmark's baseline.
VERYFAST_X264 = X264("veryfast", "23")


class VideoError(AnimateError):
    """The result video could not be read or written; the service can fall back to the link."""

    kind = Kind.DOWNLOAD


def _video_error(message: str, key: str) -> VideoError:
    return VideoError(message, key=f"video.{key}", subject=Input.OUTPUT)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    codec: str  # e.g. "h264"
    width: int
    height: int
    fps: float
    duration: float  # seconds
    has_audio: bool
    audio_codec: str | None  # e.g. "aac"
    size_bytes: int
    frames: int = 0  # as the container states it (0 when unknown)
    bit_rate: int = 0  # whole file, bits per second (0 when unknown)


@dataclass(frozen=True, slots=True)
class FitResult:
    path: Path
    size_bytes: int
    width: int
    height: int
    duration: float
    video_bitrate: int  # the cap used (0 when the file was copied as it was)
    audio_bitrate: int
    reencoded: bool  # False: the source already fitted and was copied
    scaled: bool  # the picture was made smaller to stay watchable
    attempts: int


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    """The downloaded result as MP4/MOV only, unable to reach any other file (see _demux)."""
    with ExitStack() as stack:
        try:
            container = stack.enter_context(open_path(path, VIDEO_DEMUXERS))
        except FileNotFoundError:
            raise _video_error("The finished video file is missing.", "missing") from None
        except (av.error.FFmpegError, ValueError, OSError):
            raise _video_error("The finished video could not be read.", "unreadable") from None
        yield container


def probe_video(path: Path) -> VideoInfo:
    """Codec, size, frame rate, duration and sound of an MP4 (or any FFmpeg-readable video)."""
    with _open(path) as container:
        if not container.streams.video:
            raise _video_error("The finished file contains no video.", "no_video")
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        audio = container.streams.audio[0] if container.streams.audio else None
        return VideoInfo(
            codec=vs.codec_context.name,
            width=vs.codec_context.width,
            height=vs.codec_context.height,
            fps=float(rate),
            duration=duration,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            size_bytes=path.stat().st_size,
            frames=vs.frames or 0,
            bit_rate=container.bit_rate or 0,
        )


def poster_frame(path: Path, *, max_side: int = 640) -> bytes:
    """The first frame as a JPEG no larger than ``max_side`` on its long side (for an embed)."""
    with _open(path) as container:
        if not container.streams.video:
            raise _video_error("The finished file contains no video.", "no_video")
        try:
            frame = next(container.decode(container.streams.video[0]), None)
        except (av.error.FFmpegError, ValueError, OSError):
            frame = None
        if frame is None:
            raise _video_error("The finished video has no readable frame.", "no_frame")
        image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]  # unannotated in PyAV's stub
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


@dataclass(frozen=True, slots=True)
class _Target:
    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def plan_fit(info: VideoInfo, max_bytes: int, *, squeeze: float = 1.0) -> _Target | None:
    """Resolution and bitrates that should land under ``max_bytes``; None if not watchable."""
    if info.duration <= 0:
        return None
    bits = (max_bytes * _OVERHEAD_RATIO - _OVERHEAD_FIXED) * 8 * squeeze
    per_second = bits / info.duration
    audio = 0
    if info.has_audio:
        audio = next((a for a in _AUDIO_BITRATES if a * 10 <= per_second), _AUDIO_BITRATES[-1])
    # VBV cap: total ≤ maxrate × (duration + buffer seconds), so leave room for one buffer.
    buffer_seconds = min(1.0, info.duration / 4)
    video = int((bits - audio * info.duration) / (info.duration + buffer_seconds))
    if video < MIN_VIDEO_BITRATE:
        return None
    fps = info.fps or 30.0
    short = min(info.width, info.height)
    for rung in (short, *(r for r in _LADDER if r < short)):
        scale = rung / short
        w, h = _even(info.width * scale), _even(info.height * scale)
        if video / (w * h * fps) >= WATCHABLE_BPP or rung <= _LADDER[-1]:
            return _Target(w, h, video, audio)
    return None  # pragma: no cover - the loop always returns at the last rung


def _interleaved(
    container: av.container.InputContainer,
    vs: av.VideoStream,
    audio: av.AudioStream | None,
) -> Iterator[av.VideoFrame | av.AudioFrame]:
    streams = [s for s in (vs, audio) if s is not None]
    for packet in container.demux(streams):
        yield from packet.decode()  # type: ignore[misc]  # demux yields Packets, decode() frames


def _encode(src: Path, dest: Path, info: VideoInfo, target: _Target, x264: X264) -> None:
    with _open(src) as container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        audio_in = container.streams.audio[0] if container.streams.audio else None
        rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        opts = {
            "preset": x264.preset,
            "crf": x264.crf,
            "maxrate": str(target.video_bitrate),
            "bufsize": str(int(target.video_bitrate * min(1.0, info.duration / 4))),
            "profile": "high",
        }
        if x264.params:
            opts["x264-params"] = x264.params
        with av.open(str(dest), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            v_out = out.add_stream("libx264", rate=rate, options=opts)
            v_out.width, v_out.height = target.width, target.height
            v_out.pix_fmt = "yuv420p"
            a_out = None
            if audio_in is not None and target.audio_bitrate:
                a_rate = audio_in.codec_context.sample_rate or 48000
                layout = "mono" if audio_in.codec_context.channels == 1 else "stereo"
                a_out = out.add_stream("aac", rate=a_rate, layout=layout)
                a_out.bit_rate = target.audio_bitrate
            resize = (target.width, target.height) != (info.width, info.height)
            for frame in _interleaved(container, vs, audio_in):
                if isinstance(frame, av.VideoFrame):
                    if resize:
                        frame = frame.reformat(
                            width=target.width,
                            height=target.height,
                            format="yuv420p",
                            interpolation="AREA",
                        )
                    out.mux(v_out.encode(frame))
                elif a_out is not None:
                    out.mux(a_out.encode(frame))
            out.mux(v_out.encode(None))
            if a_out is not None:
                out.mux(a_out.encode(None))


def fit_video(src: Path, dest: Path, max_bytes: int, *, x264: X264 = FIT_X264) -> FitResult | None:
    """Write an H.264+AAC MP4 of ``src`` to ``dest`` under ``max_bytes``; None if not watchable.

    A source that already fits (and is H.264 with AAC or no sound) is copied unchanged. The
    file appears at ``dest`` only when complete (written beside it, then renamed). ``x264`` is
    there for the benchmark's baseline; callers keep the default.
    """
    info = probe_video(src)
    audio_ok = not info.has_audio or info.audio_codec == "aac"
    if info.size_bytes <= max_bytes and info.codec == "h264" and audio_ok:
        shutil.copyfile(src, dest)
        return FitResult(
            dest, info.size_bytes, info.width, info.height, info.duration, 0, 0, False, False, 0
        )
    part = dest.with_name(dest.name + ".part")
    squeeze = 1.0
    try:
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            target = plan_fit(info, max_bytes, squeeze=squeeze)
            if target is None:
                log.info("video %s cannot fit %d bytes watchably", src.name, max_bytes)
                return None
            try:
                _encode(src, part, info, target, x264)
            except (av.error.FFmpegError, ValueError) as exc:
                raise _video_error("The finished video could not be re-encoded.", "encode") from exc
            size = part.stat().st_size
            if size <= max_bytes:
                os.replace(part, dest)
                scaled = (target.width, target.height) != (info.width, info.height)
                return FitResult(
                    dest, size, target.width, target.height, info.duration,
                    target.video_bitrate, target.audio_bitrate, True, scaled, attempt,
                )  # fmt: skip
            log.info("fit attempt %d overshot: %d > %d bytes", attempt, size, max_bytes)
            squeeze *= max_bytes / size * 0.95
        return None
    finally:
        part.unlink(missing_ok=True)
