"""Input media checks (§6): data URIs, real image decoding with Pillow, audio probing with PyAV."""

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
from emulator._rules import AUDIO_MAX_BYTES, AUDIO_MAX_SECONDS, AUDIO_MIN_SECONDS

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


def check_image(data: bytes, min_side: int, max_side: int, max_bytes: int) -> ImageInfo:
    """Decode ``data`` and enforce format, alpha, pixel and byte limits. Blocking (Pillow)."""
    if len(data) > max_bytes:
        raise invalid(
            f"The image file size {len(data)} bytes exceeds the limit of {max_bytes} bytes."
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
        raise invalid("The PNG image must not have a transparency (alpha) channel.")
    if not (min_side <= width <= max_side and min_side <= height <= max_side):
        raise invalid(
            f"The image size {width}x{height} is not valid: width and height must be within "
            f"[{min_side}, {max_side}] pixels."
        )
    return ImageInfo(width=width, height=height, format=fmt)


def check_audio(data: bytes) -> float:
    """Probe an uploaded audio file (wav/mp3, 3–30 s, ≤ 15 MB); returns seconds. Blocking."""
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
    if seconds < AUDIO_MIN_SECONDS:
        raise ApiError(
            400, "InvalidURL", f"The input audio is shorter than {AUDIO_MIN_SECONDS:g}s."
        )
    return seconds


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
