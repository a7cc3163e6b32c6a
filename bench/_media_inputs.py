"""Inputs and yardsticks for ``bench.bench_media``: generated files, the old image path, SSIM.

``before_normalise`` is the image pipeline as it was before strip-wise conversion (decode, turn
upright, convert the whole picture, resize), kept here so that every run measures its baseline
itself instead of quoting an old number.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from array import array
from fractions import Fraction
from pathlib import Path

import av
import av.error
import av.filter
from PIL import Image, ImageOps

from core.domain.catalog import SAFE_MAX_SIDE, SAFE_MIN_SIDE, Model
from core.media import _geometry
from core.media._modes import to_srgb
from core.media.image import _READ_FORMATS, MAX_OUTPUT_BYTES, _encode, _render

MIB = 1024 * 1024


# --------------------------------------------------------------------------- generated inputs
def make_photo(path: Path, width: int = 6000, height: int = 4000) -> Path:
    base = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    im = Image.merge("RGB", (base, noise, base.rotate(90, expand=False)))
    exif = Image.Exif()
    exif[0x0112] = 6  # a phone photo taken upright: must be rotated
    im.save(path, "JPEG", quality=92, exif=exif)
    return path


def make_png16_grey(path: Path, side: int = 10000) -> Path:
    """A ``side``² 16-bit greyscale PNG (Pillow decodes it as I;16, 2 bytes a pixel)."""
    ramp = Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    ramp.convert("I").point(lambda v: v * 257).convert("I;16").save(path, "PNG")
    return path


def make_png48_rgb(path: Path, side: int = 10000) -> Path:
    """A ``side``² 16-bit-per-channel RGB PNG, built by hand (Pillow cannot write one).

    Rows repeat with the PNG "Up" filter so that 100 MP compress to under a megabyte.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    first = bytearray(6 * side)
    for x in range(side):
        v = x * 255 // (side - 1)
        first[6 * x : 6 * x + 6] = bytes((v, v, 0x80, 0x80, 255 - v, 255 - v))
    step = bytearray(6 * side)
    step[2::6] = b"\x01" * side  # green rises by 256 every 50 rows
    comp = zlib.compressobj(6)
    idat = [comp.compress(b"\x00" + bytes(first))]
    same, up = b"\x02" + bytes(6 * side), b"\x02" + bytes(step)
    idat += [comp.compress(up if y % 50 == 0 else same) for y in range(1, side)]
    idat.append(comp.flush())
    header = struct.pack(">IIBBBBB", side, side, 16, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(idat))
    path.write_bytes(png + chunk(b"IEND", b""))
    return path


def make_video(path: Path, width: int = 1920, height: int = 1080, seconds: float = 10.0) -> Path:
    """Noisy moving 1080p30 H.264 + AAC: compresses badly on purpose, so it is over 10 MiB."""
    fps = 30
    noises = [Image.effect_noise((width, height), 30).convert("RGB") for _ in range(8)]
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    with av.open(str(path), mode="w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps, options={"crf": "20", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        a_out = out.add_stream("aac", rate=48000, layout="stereo")
        for i in range(int(seconds * fps)):
            shifted = base.transform(base.size, Image.Transform.AFFINE, (1, 0, i * 6, 0, 1, 0))
            img = Image.blend(shifted, noises[i % len(noises)], 0.3)
            frame = av.VideoFrame.from_image(img)  # type: ignore[no-untyped-call]  # unannotated in PyAV's stub
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        step = 2 * math.pi * 330 / 48000
        total = int(seconds * 48000)
        for start in range(0, total, 1024):
            n = min(1024, total - start)
            pcm = array(
                "h", (int(6000 * math.sin(step * (start + j))) for j in range(n) for _ in "lr")
            )
            af = av.AudioFrame(format="s16", layout="stereo", samples=n)
            af.planes[0].update(pcm.tobytes())
            af.sample_rate = 48000
            af.pts = start
            out.mux(a_out.encode(af))
        out.mux(a_out.encode(None))
    return path


# --------------------------------------------------------------------------- the old image path
def _before_deep_to_l(im: Image.Image) -> Image.Image:
    if im.mode != "F":
        im = im.convert("I")
        high = im.getextrema()[1]
        top = 65535.0 if not isinstance(high, (int, float)) or high <= 65535 else float(high)
        return im.point(lambda v: v * (255.0 / max(top, 1.0))).convert("L")
    low, high = (float(x) for x in im.getextrema())  # type: ignore[arg-type]  # one band
    span = high - low or 1.0
    return im.point(lambda v: (v - low) * (255.0 / span)).convert("L")


def _before_working_mode(im: Image.Image) -> Image.Image:
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        return _before_deep_to_l(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode == "RGBA":
        base = Image.new("RGB", im.size, (255, 255, 255))
        base.paste(im, mask=im.getchannel("A"))
        return base
    return im if im.mode in ("RGB", "L", "CMYK") else im.convert("RGB")


def before_normalise(data: bytes, model: Model) -> tuple[int, int]:
    """The pre-change pipeline for a lossless picture; returns the output size."""
    im: Image.Image = Image.open(io.BytesIO(data), formats=_READ_FORMATS)
    lo, hi = max(SAFE_MIN_SIDE, model.image.min_side), min(SAFE_MAX_SIDE, model.image.max_side)
    p = _geometry.plan(*im.size, aspect="original", fill="crop", lo=lo, hi=hi)
    orientation = im.getexif().get(0x0112, 1)
    im.load()
    icc = im.info.get("icc_profile")
    if orientation != 1:
        im = ImageOps.exif_transpose(im)
    im = _before_working_mode(im)
    out = to_srgb(_render(im, p), icc if isinstance(icc, bytes) else None, [])
    budget = min(MAX_OUTPUT_BYTES, model.image.max_bytes // 2)
    _encode(out, lossless_source=True, budget=budget)
    return out.size


# --------------------------------------------------------------------------- video quality
def ssim(reference: Path, candidate: Path) -> float:
    """Mean SSIM (FFmpeg's ``ssim`` filter, all planes) of ``candidate`` against ``reference``.

    The candidate is scaled back to the reference's size first (bicubic), as a viewer would.
    """
    with av.open(str(reference), "r") as ref, av.open(str(candidate), "r") as cand:
        rs, cs = ref.streams.video[0], cand.streams.video[0]
        rs.thread_type = cs.thread_type = "AUTO"
        graph = av.filter.Graph()
        src_ref, src_cand = graph.add_buffer(template=rs), graph.add_buffer(template=cs)
        size = f"{rs.codec_context.width}:{rs.codec_context.height}"
        scale = graph.add("scale", f"{size}:flags=bicubic")
        compare, sink = graph.add("ssim"), graph.add("buffersink")
        src_cand.link_to(scale)
        src_ref.link_to(compare, 0, 0)
        scale.link_to(compare, 0, 1)
        compare.link_to(sink)
        graph.configure()
        scores: list[float] = []

        def drain() -> None:
            while True:
                try:
                    frame = sink.pull()
                except (av.error.BlockingIOError, av.error.EOFError):
                    return
                scores.append(float(frame.metadata["lavfi.ssim.All"]))

        for a, b in zip(ref.decode(rs), cand.decode(cs), strict=False):
            src_ref.push(a)
            src_cand.push(b)
            drain()
        src_ref.push(None)
        src_cand.push(None)
        drain()
    return sum(scores) / len(scores)
