"""Input media checks (§6, §5.3, §5.5): data URIs, image decoding with Pillow, audio and video
probing with PyAV."""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
from dataclasses import dataclass

import av
from PIL import Image, UnidentifiedImageError

from emulator._errors import ApiError, invalid
from emulator._rules import AUDIO_MAX_BYTES, AUDIO_MAX_SECONDS, AUDIO_MIN_SECONDS, ImageLimits

log = logging.getLogger(__name__)

IMAGE_FORMAT_MESSAGE = (
    "The request URL is invalid, please check the request URL is available and the request image "
    "format is one of the following types: JPEG, JPG, PNG, BMP, and WEBP."
)
BAD_URL_MESSAGE = (
    "InternalError.Algo.InvalidParameter: The provided URL does not appear to be valid. "
    "Ensure it is correctly formatted."
)
AUDIO_TYPE_MESSAGE = "File type is not supported. Allowed types are: .wav, .mp3."
VIDEO_TYPE_MESSAGE = "File type is not supported. Allowed types are: .mp4, .mov."
MEDIA_FORMAT_MESSAGE = "The media format is not supported or incorrect for the data inspection."

# wan2.7 first_clip (§5.3): mp4/mov, 2–10 s, 240–4096 px, 1:8–8:1, ≤ 100 MB.
CLIP_MIN_SECONDS = 2.0
CLIP_MAX_SECONDS = 10.0
CLIP_MIN_SIDE = 240
CLIP_MAX_SIDE = 4096
CLIP_MAX_BYTES = 100 * 1024 * 1024
MAX_ASPECT = 8.0
_MOV_FAMILY = "mp4"  # FFmpeg's demuxer "mov,mp4,m4a,3gp,3g2,mj2" reads both mp4 and mov

_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)
_IMAGE_MIMES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/bmp", "image/webp"})
_PIL_FORMATS = frozenset({"JPEG", "PNG", "BMP", "WEBP"})


@dataclass(frozen=True)
class UploadedFile:
    """A file POSTed to the emulated OSS upload host, bound to a model (§11)."""

    key: str
    model: str
    data: bytes
    content_type: str
    expires_at: float


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    seconds: float


def decode_data_uri(url: str) -> bytes:
    """Bytes of a ``data:{mime};base64,{data}`` image URI; the prefix is required (§6.2)."""
    match = _DATA_URI.match(url)
    if match is None:
        raise invalid(BAD_URL_MESSAGE)
    if match.group("mime").lower() not in _IMAGE_MIMES:
        raise invalid(IMAGE_FORMAT_MESSAGE)
    try:
        return base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"The base64 image data is not valid: {exc}") from exc


def check_image(data: bytes, limits: ImageLimits, name: str = "image") -> ImageInfo:
    """Decode ``data``; enforce format, alpha, pixel, aspect and byte limits. Blocking (Pillow)."""
    if len(data) > limits.max_bytes:
        raise invalid(
            f"The {name} file size {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes."
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            if fmt not in _PIL_FORMATS:
                raise invalid(IMAGE_FORMAT_MESSAGE)
            img.load()
            has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
                "transparency" in img.info
            )
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApiError(
            400,
            "InvalidParameter.DataInspection",
            "Failed to decode the image during the data inspection.",
        ) from exc
    if fmt == "PNG" and has_alpha:
        raise invalid(f"The PNG {name} must not have a transparency (alpha) channel.")
    low, high = limits.min_side, limits.max_side
    if not (low <= width <= high and low <= height <= high):
        raise invalid(
            f"The {name} size {width}x{height} is not valid: width and height must be within "
            f"[{low}, {high}] pixels."
        )
    if limits.max_aspect is not None and max(width, height) > limits.max_aspect * min(
        width, height
    ):
        raise invalid(
            f"The {name} aspect ratio {width}:{height} is not valid: it must be within "
            f"1:{limits.max_aspect:g} and {limits.max_aspect:g}:1."
        )
    return ImageInfo(width=width, height=height, format=fmt)


def check_audio(data: bytes, min_seconds: float = AUDIO_MIN_SECONDS) -> float:
    """Probe an uploaded audio file (wav/mp3, ``min_seconds``–30 s, ≤ 15 MB); returns seconds."""
    if len(data) > AUDIO_MAX_BYTES:
        raise ApiError(400, "InvalidURL", "File size is larger than 15MB.")
    try:
        with av.open(io.BytesIO(data), "r") as container:
            fmt_names = set(container.format.name.split(","))
            if not fmt_names & {"wav", "mp3"} or not container.streams.audio:
                raise ApiError(400, "InvalidURL", AUDIO_TYPE_MESSAGE)
            seconds = _container_seconds(container)
    except av.FFmpegError as exc:
        raise ApiError(400, "InvalidURL", AUDIO_TYPE_MESSAGE) from exc
    if seconds > AUDIO_MAX_SECONDS:
        raise ApiError(400, "InvalidURL", f"The input audio is longer than {AUDIO_MAX_SECONDS:g}s.")
    if seconds < min_seconds:
        raise ApiError(400, "InvalidURL", f"The input audio is shorter than {min_seconds:g}s.")
    return seconds


def check_video(
    data: bytes, min_seconds: float = CLIP_MIN_SECONDS, max_seconds: float = CLIP_MAX_SECONDS
) -> VideoInfo:
    """Probe an uploaded clip: mp4/mov with a video stream, duration, sides, aspect, size."""
    if len(data) > CLIP_MAX_BYTES:
        raise ApiError(400, "InvalidURL", "File size is larger than 100MB.")
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if _MOV_FAMILY not in container.format.name.split(","):
                raise ApiError(400, "InvalidURL", VIDEO_TYPE_MESSAGE)
            if not container.streams.video:
                raise ApiError(400, "InvalidParameter.DataInspection", MEDIA_FORMAT_MESSAGE)
            stream = container.streams.video[0]
            width, height = stream.width, stream.height
            seconds = _video_seconds(container, stream)
    except av.FFmpegError as exc:
        raise ApiError(400, "InvalidParameter.DataInspection", MEDIA_FORMAT_MESSAGE) from exc
    if not min_seconds <= seconds <= max_seconds:
        raise invalid(
            f"The input video duration {seconds:.2f}s is not valid: it must be within "
            f"[{min_seconds:g}, {max_seconds:g}] seconds."
        )
    if not (CLIP_MIN_SIDE <= width <= CLIP_MAX_SIDE and CLIP_MIN_SIDE <= height <= CLIP_MAX_SIDE):
        raise invalid(
            f"The input video size {width}x{height} is not valid: width and height must be "
            f"within [{CLIP_MIN_SIDE}, {CLIP_MAX_SIDE}] pixels."
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise invalid(f"The input video aspect ratio {width}:{height} is not within 1:8 to 8:1.")
    return VideoInfo(width=width, height=height, seconds=seconds)


def _video_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return sum(1 for _ in container.decode(stream)) / float(stream.average_rate or 30)


def _container_seconds(container: av.container.InputContainer) -> float:
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    total = 0.0
    for frame in container.decode(stream):
        total += frame.samples / (frame.sample_rate or 1)
    return total
