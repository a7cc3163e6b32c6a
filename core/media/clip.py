"""Video continuation input: wan2.7-i2v's ``first_clip`` (reference §5.3).

DashScope takes an MP4 or MOV of 2–10 s, each side 240–4096 px, aspect 1:8 to 8:1, at most
100 MB, and re-emits it at the start of the output. :func:`check_clip` judges a user's video by
its bytes (FFmpeg confined to the MP4/MOV demuxer, :mod:`core.media._demux`) and refuses anything
else with a message that says what to change; :func:`cut_last` turns a delivered result into a
clip that passes the same check (for an "Extend" button). CPU-bound: call both through
:class:`core.media.pool.MediaPool`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error

from core.domain.errors import Input, ValidationError
from core.media._demux import VIDEO_DEMUXERS, open_bytes, open_path

#: Decimal megabytes: whichever unit DashScope means, 100 × 10⁶ bytes is within it.
_MB = 1000 * 1000
#: ISO base media brands that are MP4 (and QuickTime's own); 3GP, M4A, HEIF … share the demuxer.
_MP4_BRANDS = frozenset(
    {"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V", "M4VP", "dash"}
)
_QUICKTIME_BRAND = "qt"


#: ISO base media brands of still (or animated) pictures: HEIF and AVIF, never a clip
_PICTURE_BRANDS = frozenset(
    {"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis"}
)
#: the first atom of a QuickTime file written before ``ftyp`` existed
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip"})


def looks_like_video(data: bytes) -> bool:
    """The bytes start like an MP4 or MOV (an ISO media file that is not a HEIF/AVIF picture):
    given where a picture goes, it is a clip to continue. :func:`check_clip` then judges it."""
    box = data[4:8]
    if box == b"ftyp":
        return data[8:12].decode("latin-1").strip() not in _PICTURE_BRANDS
    return box in _QUICKTIME_ATOMS


@dataclass(frozen=True, slots=True)
class ClipLimits:
    min_seconds: float = 2.0
    max_seconds: float = 10.0
    min_side: int = 240
    max_side: int = 4096
    max_ratio: float = 8.0
    max_bytes: int = 100 * _MB


CLIP_LIMITS = ClipLimits()


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """A video that is valid as ``first_clip``."""

    container: str  # "mp4" | "mov"
    codec: str  # e.g. "h264"
    width: int
    height: int
    seconds: float
    fps: float
    has_audio: bool
    size_bytes: int


def clip_error(message: str, key: str, **params: object) -> ValidationError:
    return ValidationError(message, key=f"clip.{key}", params=params, subject=Input.CLIP)


_SEND = "Send an MP4 or MOV video of 2 to 10 seconds."


def _container_kind(container: av.container.InputContainer) -> str:
    brand = str(container.metadata.get("major_brand", "")).strip()
    if brand in _MP4_BRANDS:
        return "mp4"
    if brand == _QUICKTIME_BRAND or not brand:  # QuickTime files before ftyp existed have none
        return "mov"
    raise clip_error(
        f"That video is a {brand.upper()} file; only MP4 and MOV can be continued. "
        "Convert it to MP4 and send it again.",
        "format",
        brand=brand,
    )


def _seconds(container: av.container.InputContainer, vs: av.VideoStream) -> float:
    if vs.duration is not None and vs.time_base is not None:
        return float(vs.duration * vs.time_base)
    return container.duration / 1_000_000 if container.duration else 0.0


def _describe(container: av.container.InputContainer, size: int) -> ClipInfo:
    """What the opened video is; refuses non-MP4/MOV, sound-only and undecodable files."""
    if not container.streams.video:
        raise clip_error("That file has no picture, only sound. " + _SEND, "no_video")
    kind = _container_kind(container)
    vs = container.streams.video[0]
    try:
        frame = next(container.decode(vs), None)
    except (av.error.FFmpegError, ValueError, OSError):
        frame = None
    if frame is None:
        raise clip_error(
            "The video seems damaged: no picture could be decoded. " + _SEND, "damaged"
        )
    rate = vs.average_rate or vs.guessed_rate or Fraction(30)
    return ClipInfo(
        container=kind,
        codec=vs.codec_context.name,
        width=vs.codec_context.width,
        height=vs.codec_context.height,
        seconds=_seconds(container, vs),
        fps=float(rate),
        has_audio=bool(container.streams.audio),
        size_bytes=size,
    )


def _check(info: ClipInfo, limits: ClipLimits) -> ClipInfo:
    width, height, seconds = info.width, info.height, info.seconds
    if seconds < limits.min_seconds:
        raise clip_error(
            f"The video is only {seconds:.1f} s long; a clip to continue must last at least "
            f"{limits.min_seconds:g} s.",
            "too_short",
            seconds=round(seconds, 2),
            min_seconds=limits.min_seconds,
        )
    if seconds > limits.max_seconds:
        raise clip_error(
            f"The video is {seconds:.1f} s long; a clip to continue may last at most "
            f"{limits.max_seconds:g} s. Trim it to its last {limits.max_seconds:g} seconds.",
            "too_long",
            seconds=round(seconds, 2),
            max_seconds=limits.max_seconds,
        )
    if min(width, height) < limits.min_side or max(width, height) > limits.max_side:
        raise clip_error(
            f"The video is {width}×{height} pixels; each side must be between "
            f"{limits.min_side} and {limits.max_side} pixels.",
            "size",
            width=width,
            height=height,
        )
    if too_elongated(width, height, limits):
        raise clip_error(
            f"The video is {width}×{height} pixels, longer than {limits.max_ratio:g}:1. "
            "Crop it to a less extreme shape.",
            "aspect",
            width=width,
            height=height,
        )
    return info


def too_elongated(width: int, height: int, limits: ClipLimits = CLIP_LIMITS) -> bool:
    return max(width, height) > limits.max_ratio * min(width, height)


def _unreadable() -> ValidationError:
    return clip_error("That file is not a video I can read. " + _SEND, "unreadable")


def check_clip(data: bytes, limits: ClipLimits = CLIP_LIMITS) -> ClipInfo:
    """What the video in ``data`` is, or :class:`ValidationError` (subject CLIP) saying why not."""
    if not data:
        raise clip_error("The video file is empty (0 bytes). Attach it again.", "empty")
    if len(data) > limits.max_bytes:
        raise clip_error(
            f"The video is {len(data) / _MB:.0f} MB; up to {limits.max_bytes // _MB} MB is "
            "accepted. Send a shorter or more compressed clip.",
            "too_big",
            size_mb=round(len(data) / _MB, 1),
            limit_mb=limits.max_bytes // _MB,
        )
    try:
        container = open_bytes(data, VIDEO_DEMUXERS)
    except (av.error.FFmpegError, ValueError, OSError):
        raise _unreadable() from None
    with container:
        return _check(_describe(container, len(data)), limits)


def probe_clip_file(path: Path) -> ClipInfo:
    """What the MP4/MOV at ``path`` is, limits aside (a result to cut a clip from)."""
    try:
        with open_path(path, VIDEO_DEMUXERS) as container:
            return _describe(container, path.stat().st_size)
    except (av.error.FFmpegError, ValueError, OSError):
        raise _unreadable() from None


def check_clip_file(path: Path, limits: ClipLimits = CLIP_LIMITS) -> ClipInfo:
    """:func:`check_clip` for a file on disk, without reading it into memory."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise clip_error(
            f"The video is {size / _MB:.0f} MB; up to {limits.max_bytes // _MB} MB is accepted.",
            "too_big",
            size_mb=round(size / _MB, 1),
            limit_mb=limits.max_bytes // _MB,
        )
    return _check(probe_clip_file(path), limits)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def clip_size(width: int, height: int, limits: ClipLimits = CLIP_LIMITS) -> tuple[int, int]:
    """``width``×``height`` scaled (never cropped) so both sides lie within the clip limits.

    A shape beyond 8:1 cannot be made valid by scaling; :func:`cut_last` refuses it.
    """
    scale = min(1.0, limits.max_side / max(width, height))
    if min(width, height) * scale < limits.min_side:
        scale = limits.min_side / min(width, height)
    return (
        min(limits.max_side, max(limits.min_side, _even(width * scale))),
        min(limits.max_side, max(limits.min_side, _even(height * scale))),
    )
