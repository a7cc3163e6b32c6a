"""A generated corpus of the files users really upload: made here, never checked in as binaries.

Images come from Pillow (plus a few hand-built byte strings Pillow cannot or should not write:
a 48-bit PNG, a header-only bomb, a HEIC-like box, a PDF). Audio and video come from PyAV.
"""

from __future__ import annotations

import functools
import io
import math
import random
import struct
import zlib
from array import array
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 30), (30, 30, 220)


# ----------------------------------------------------------------------------- images
def save(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A photo-like RGB picture: smooth gradients plus sensor-like noise (hard to compress)."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height)).rotate(rng.randrange(360))
    noise = Image.effect_noise((width, height), 40)
    return Image.merge("RGB", (base, noise, Image.linear_gradient("L").resize((width, height))))


def halves(
    width: int, height: int, left: tuple[int, int, int], right: tuple[int, int, int]
) -> Image.Image:
    im = Image.new("RGB", (width, height), left)
    im.paste(right, (width // 2, 0, width, height))
    return im


def exif_rotated_jpeg() -> bytes:
    """Stored 400×300 with red left / blue right, tagged orientation 6 (display rotated 90° CW)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return save(halves(400, 300, RED, BLUE), "JPEG", quality=95, exif=exif)


def transparent_png() -> bytes:
    im = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    im.paste((*GREEN, 255), (200, 100, 400, 300))
    return save(im, "PNG")


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (480, 360), c) for c in (RED, GREEN, BLUE)]
    return save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def png16_grey() -> bytes:
    return save(Image.new("I;16", (500, 400), 40000), "PNG")


def png48_rgb(width: int = 400, height: int = 300) -> bytes:
    """A 16-bit-per-channel RGB PNG, hand-built (Pillow can read but not write this depth)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    pixel = struct.pack(">HHH", 60000, 30000, 5000)
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def png_bomb_header(side: int = 30000) -> bytes:
    """A PNG whose header claims ``side``×``side`` pixels (900 MP) with almost no data."""
    good = png48_rgb(8, 8)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return good[:8] + struct.pack(">I", 13) + b"IHDR" + ihdr + crc + good[33:]


def png_bomb_real() -> bytes:
    """A real 12000×9000 (108 MP) one-bit PNG: a few kB that would decode to 324 MB of RGB."""
    return save(Image.new("1", (12000, 9000), 0), "PNG")


def heic_like() -> bytes:
    return (
        struct.pack(">I", 24)
        + b"ftypheic"
        + b"\x00\x00\x00\x00"
        + b"mif1heic"
        + bytes(random.Random(3).randrange(256) for _ in range(2000))
    )


def pdf_bytes() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def cmyk_jpeg() -> bytes:
    return save(Image.new("CMYK", (640, 480), (0, 255, 255, 0)), "JPEG", quality=95)


#: Every image kind from the issue that must normalise: name -> (bytes factory, note expected).
GOOD_IMAGES: dict[str, Callable[[], bytes]] = {
    "photo_jpeg": lambda: save(photo(1600, 1200), "JPEG", quality=90),
    "exif_rotated": exif_rotated_jpeg,
    "transparent_png": transparent_png,
    "palette_png_with_transparency": lambda: save(
        Image.open(io.BytesIO(transparent_png())).convert("P"), "PNG", transparency=0
    ),
    "grey_alpha_png": lambda: save(Image.new("LA", (500, 500), (128, 100)), "PNG"),
    "animated_gif": lambda: animated("GIF"),
    "animated_webp": lambda: animated("WEBP"),
    "huge_screenshot_png": lambda: save(halves(3840, 2160, (240, 240, 240), (30, 30, 30)), "PNG"),
    "tiny_emoji_png": lambda: save(Image.new("RGBA", (64, 64), (*BLUE, 255)), "PNG"),
    "cmyk_jpeg": cmyk_jpeg,
    "png16_grey": png16_grey,
    "png48_rgb": png48_rgb,
    "avif": lambda: save(photo(800, 600), "AVIF", quality=70),
    "webp": lambda: save(photo(800, 600), "WEBP", quality=80),
    "bmp": lambda: save(photo(640, 480), "BMP"),
    "tiff": lambda: save(photo(640, 480), "TIFF"),
    "one_bit_png": lambda: save(Image.new("1", (400, 400), 1), "PNG"),
    "very_wide_banner": lambda: save(halves(5000, 100, RED, BLUE), "PNG"),
    "jpeg_10000x10000": lambda: save(Image.new("RGB", (10000, 10000), GREEN), "JPEG", quality=80),
}


@functools.cache
def good_image(name: str) -> bytes:
    """Each good corpus image is built once per test run (the 100 MP one takes a second)."""
    return GOOD_IMAGES[name]()


def _truncated_jpeg() -> bytes:
    data = save(photo(800, 600), "JPEG", quality=90)
    return data[: len(data) // 2]


def _truncated_png() -> bytes:
    data = save(photo(400, 300), "PNG")
    return data[: len(data) // 3]


#: Inputs that must be refused, with the ValidationError key each should produce.
BAD_IMAGES: dict[str, tuple[Callable[[], bytes], str]] = {
    "zero_bytes": (lambda: b"", "image.empty"),
    "pdf_renamed_png": (pdf_bytes, "image.pdf"),
    "heic_like": (heic_like, "image.heic"),
    "truncated_jpeg": (_truncated_jpeg, "image.damaged"),
    "truncated_png": (_truncated_png, "image.damaged"),
    "corrupt_jpeg_body": (
        lambda: b"\xff\xd8\xff\xe0" + bytes(random.Random(5).randrange(256) for _ in range(4000)),
        "image.damaged",
    ),
    "random_bytes": (
        lambda: bytes(random.Random(9).randrange(256) for _ in range(3000)),
        "image.unreadable",
    ),
    "text_file": (lambda: b"hello, this is not a picture\n" * 20, "image.unreadable"),
    "svg": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "image.svg",
    ),
    "one_pixel": (lambda: save(Image.new("RGB", (1, 1), RED), "PNG"), "image.too_small"),
    "bomb_header_900mp": (png_bomb_header, "image.bomb"),
}


# ----------------------------------------------------------------------------- audio
def pcm_tone(seconds: float, rate: int, channels: int, amp: int = 8000, hz: float = 440.0) -> bytes:
    n = int(seconds * rate)
    step = 2 * math.pi * hz / rate
    mono = array("h", (int(amp * math.sin(step * i)) for i in range(n)))
    if channels == 1:
        return mono.tobytes()
    stereo = array("h", bytes(4 * n))
    stereo[0::2] = mono
    stereo[1::2] = mono
    return stereo.tobytes()


def encode_audio(
    fmt: str, codec: str, seconds: float, *, rate: int = 44100, channels: int = 2, amp: int = 8000
) -> bytes:
    """Encode a tone with PyAV into ``fmt`` (container) with ``codec``."""
    pcm = pcm_tone(seconds, rate, channels, amp)
    layout = "mono" if channels == 1 else "stereo"
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        step = 1024 * 2 * channels
        pts = 0
        for start in range(0, len(pcm), step):
            piece = pcm[start : start + step]
            frame = av.AudioFrame(format="s16", layout=layout, samples=len(piece) // (2 * channels))
            frame.planes[0].update(piece)
            frame.sample_rate = rate
            frame.pts = pts
            pts += frame.samples
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


# ----------------------------------------------------------------------------- video
def make_video(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    *,
    fps: int = 30,
    audio: bool = True,
    crf: str = "12",
    noise: float = 60.0,
) -> Path:
    """An H.264 (+ AAC) MP4 with moving content and noise, so it compresses badly on purpose."""
    with av.open(str(path), mode="w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps, options={"crf": crf, "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        a_out = out.add_stream("aac", rate=48000, layout="stereo") if audio else None
        base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        for i in range(int(seconds * fps)):
            noisy = Image.effect_noise((width, height), noise).convert("RGB")
            frame = av.VideoFrame.from_image(Image.blend(base.rotate(i * 3), noisy, 0.5))  # type: ignore[no-untyped-call]  # unannotated in PyAV's stub
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if a_out is not None:
            pcm = pcm_tone(seconds, 48000, 2, hz=330.0)
            pts = 0
            for start in range(0, len(pcm), 4096):
                piece = pcm[start : start + 4096]
                frame_a = av.AudioFrame(format="s16", layout="stereo", samples=len(piece) // 4)
                frame_a.planes[0].update(piece)
                frame_a.sample_rate = 48000
                frame_a.pts = pts
                pts += frame_a.samples
                out.mux(a_out.encode(frame_a))
            out.mux(a_out.encode(None))
    return path


def ramp_video(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    *,
    fps: int = 10,
    fmt: str = "mp4",
    audio: bool = True,
) -> Path:
    """Solid frames whose grey level is the frame number (mod 256), so a cut's first frame tells
    where it starts; a 330 Hz tone for sound. Fast to make at any size."""
    with av.open(str(path), mode="w", format=fmt) as out:
        vs = out.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        a_out = out.add_stream("aac", rate=48000, layout="stereo") if audio else None
        for i in range(round(seconds * fps)):
            grey = i % 256
            frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), (grey,) * 3))  # type: ignore[no-untyped-call]  # unannotated in PyAV's stub
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if a_out is not None:
            pcm = pcm_tone(seconds, 48000, 2, hz=330.0)
            for n, start in enumerate(range(0, len(pcm), 4096)):
                piece = pcm[start : start + 4096]
                frame_a = av.AudioFrame(format="s16", layout="stereo", samples=len(piece) // 4)
                frame_a.planes[0].update(piece)
                frame_a.sample_rate = 48000
                frame_a.pts = n * 1024
                out.mux(a_out.encode(frame_a))
            out.mux(a_out.encode(None))
    return path
