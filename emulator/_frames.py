"""Pictures for the rendered MP4: Ken Burns motion over a source image, a blend into the last
frame, frames of an uploaded first clip, and placeholders for remote media never fetched."""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Iterator

import av
from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

_ZOOM = 1.2  # the canvas is 20 % larger than the output; the camera zooms into it
_BLEND_START = 0.4  # share of the generated part before it starts turning into the last frame


def load_image(data: bytes | None, label: str) -> Image.Image:
    """The decoded image, or a placeholder seeded by ``label`` when there is none."""
    if data is not None:
        try:
            with Image.open(io.BytesIO(data)) as img:
                return img.convert("RGB")
        except OSError:
            log.warning("input image could not be decoded for rendering; using a placeholder")
    return placeholder(label)


def placeholder(label: str) -> Image.Image:
    """A deterministic colourful 16:9 picture for remote media the emulator never fetches."""
    digest = hashlib.sha256(label.encode()).digest()
    img = Image.new("RGB", (640, 360), (digest[0], digest[1], digest[2]))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        r, g, b, x, y, s = digest[3 + i * 2 % 24], digest[4 + i], digest[5 + i], i * 53, i * 29, 40
        draw.ellipse((x % 600, y % 320, x % 600 + s + i * 6, y % 320 + s + i * 4), fill=(r, g, b))
    draw.text((16, 16), "DashScope emulator", fill=(255, 255, 255))
    return img


def cover(source: Image.Image, width: int, height: int) -> Image.Image:
    """``source`` scaled to cover ``width``×``height`` and centre-cropped to exactly that."""
    scale = max(width / source.width, height / source.height)
    resized = source.resize(
        (
            max(math.ceil(source.width * scale), width),
            max(math.ceil(source.height * scale), height),
        ),
        Image.Resampling.BILINEAR,
    )
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))


def canvas(source: Image.Image, width: int, height: int) -> Image.Image:
    return cover(source, math.ceil(width * _ZOOM), math.ceil(height * _ZOOM))


def ken_burns(canvas_img: Image.Image, width: int, height: int, t: float) -> Image.Image:
    """The camera window at progress ``t`` (0..1): a slow zoom-in and pan, not yet rescaled."""
    ease = 0.5 - 0.5 * math.cos(math.pi * t)
    win_w = canvas_img.width - (canvas_img.width - width) * ease
    win_h = canvas_img.height - (canvas_img.height - height) * ease
    left = (canvas_img.width - win_w) * (0.25 + 0.5 * ease)
    top = (canvas_img.height - win_h) * 0.5
    return canvas_img.crop((round(left), round(top), round(left + win_w), round(top + win_h)))


def blend_weight(t: float) -> float:
    """How much of the last frame shows at progress ``t``: 0 early on, exactly 1 at the end."""
    u = min(max((t - _BLEND_START) / (1 - _BLEND_START), 0.0), 1.0)
    return u * u * (3 - 2 * u)


def generated(
    canvas_img: Image.Image,
    width: int,
    height: int,
    t: float,
    end: Image.Image | None,
    watermark: bool,
) -> av.VideoFrame:
    picture = ken_burns(canvas_img, width, height, t)
    weight = blend_weight(t) if end is not None else 0.0
    if end is not None and weight > 0:
        picture = Image.blend(
            picture.resize((width, height), Image.Resampling.BILINEAR), end, weight
        )
    return to_frame(picture, width, height, watermark)


def to_frame(picture: Image.Image, width: int, height: int, watermark: bool) -> av.VideoFrame:
    if watermark:
        draw = ImageDraw.Draw(picture)
        draw.text((picture.width - 90, picture.height - 24), "AI generated", fill=(255, 255, 255))
    frame: av.VideoFrame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]  # PyAV stub gap
    scaled: av.VideoFrame = frame.reformat(
        width=width, height=height, format="yuv420p", interpolation="FAST_BILINEAR"
    )
    return scaled


def clip_frames(data: bytes, count: int, fps: int) -> Iterator[av.VideoFrame]:
    """Exactly ``count`` frames of the clip resampled to ``fps`` (frame shown at each tick),
    decoded as a stream so a long clip never sits in memory; the last frame repeats if the
    clip is shorter than expected."""
    emitted = 0
    with av.open(io.BytesIO(data), "r") as src:
        decoded = src.decode(video=0)
        current = next(decoded, None)
        upcoming = next(decoded, None)
        origin = _seconds(current) if current is not None else 0.0
        while current is not None and emitted < count:
            tick = emitted / fps
            while upcoming is not None and _seconds(upcoming) - origin <= tick + 1e-6:
                current, upcoming = upcoming, next(decoded, None)
            yield current
            emitted += 1
    if current is None:
        raise ValueError("the clip has no decodable video frames")


def _seconds(frame: av.VideoFrame | None) -> float:
    if frame is None or frame.time is None:
        return 0.0
    return float(frame.time)
