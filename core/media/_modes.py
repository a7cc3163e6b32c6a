"""Pixel modes: any decoded picture to 8-bit RGB, L or CMYK, without full-size intermediate copies.

Converting a decoded picture whole costs a multiple of its size: a 100 MP 16-bit greyscale PNG
(200 MB decoded) went through a 400 MB 32-bit copy and a second 400 MB one before it became 8-bit;
a transparent PNG gets an alpha copy and a new RGB canvas beside the RGBA one. Here the decoded
picture is converted one horizontal strip at a time and each strip is shrunk (Pillow's ``reduce``,
a box average) by the factor the output allows before the next is read, so the only large buffer
is the decoded one. Anything that needs the whole picture (the 16-bit range, whether any pixel
is transparent) is computed on the decoded image first, so strips agree with each other.
"""

from __future__ import annotations

import io
import logging
import math

from PIL import Image, ImageCms

log = logging.getLogger(__name__)

#: Modes that need no conversion before resizing; the ICC step makes CMYK RGB at output size.
WORKING_MODES = frozenset({"RGB", "L", "CMYK"})
_BACKGROUND = (255, 255, 255)
#: Bytes of working-mode pixels per strip: small against the decoded picture, large enough that
#: the per-strip overhead does not matter.
_STRIP_BYTES = 16 * 1024 * 1024
_SRGB = ImageCms.createProfile("sRGB")


def _extrema(im: Image.Image) -> tuple[float, float]:
    """(min, max) of a single-band image."""
    low, high = im.getextrema()
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return float(low), float(high)
    return 0.0, 255.0  # pragma: no cover - only multi-band images return per-band pairs


def _is_deep(mode: str) -> bool:
    return mode.startswith("I;16") or mode in ("I", "F")


def _deep_to_l(im: Image.Image, low: float, high: float) -> Image.Image:
    """16-bit or float greyscale to 8-bit by scaling (``convert`` would clip at 255).

    ``low``/``high`` are the whole picture's range, so every strip is scaled alike.
    """
    if im.mode != "F":
        top = 65535.0 if high <= 65535 else high
        return im.convert("I").point(lambda v: v * (255.0 / max(top, 1.0))).convert("L")
    span = high - low or 1.0
    return im.point(lambda v: (v - low) * (255.0 / span)).convert("L")


def _flatten(im: Image.Image, deep: tuple[float, float]) -> tuple[Image.Image, bool]:
    """One strip to a working mode; True when it had transparent pixels (put on white)."""
    mode = im.mode
    if _is_deep(mode):
        return _deep_to_l(im, *deep), False
    if mode == "1":
        return im.convert("L"), False
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("LA", "PA", "La", "RGBa"):
        im = im.convert("RGBA")
    elif mode not in ("RGB", "RGBA", "L", "CMYK"):
        im = im.convert("RGB")  # YCbCr, LAB, HSV …
    if im.mode != "RGBA":
        return im, False
    alpha = im.getchannel("A")
    base = Image.new("RGB", im.size, _BACKGROUND)
    transparent = _extrema(alpha)[0] < 255
    if transparent:
        base.paste(im, mask=alpha)
    else:
        base.paste(im.convert("RGB"))
    return base, transparent


def working_copy(im: Image.Image, factor: int, notes: list[str]) -> Image.Image:
    """``im`` in a working mode, shrunk by the integer ``factor`` (1: same size).

    A picture already in a working mode is returned as it is (the resize shrinks it without a
    copy); anything else is converted strip by strip into a new, ``factor``-times smaller image.
    """
    if im.mode in WORKING_MODES:
        return im
    deep = _extrema(im) if _is_deep(im.mode) else (0.0, 0.0)
    if _is_deep(im.mode):
        notes.append("reduced 16-bit colour to 8-bit")
    width, height = im.size
    rows = max(1, _STRIP_BYTES // (4 * width) // factor) * factor
    out: Image.Image | None = None
    transparent = False
    for top in range(0, height, rows):
        strip, clear = _flatten(im.crop((0, top, width, min(height, top + rows))), deep)
        transparent |= clear
        if factor > 1:
            strip = strip.reduce(factor)
        if out is None:
            out = Image.new(strip.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        out.paste(strip, (0, top // factor))
    if out is None:  # pragma: no cover - Pillow opens no picture without rows
        raise ValueError("a picture without rows")
    if transparent:
        notes.append("filled the transparent background with white")
    return out


def to_srgb(im: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    """RGB in sRGB, using the embedded colour profile when there is one (P3 phones, CMYK print)."""
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, src, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            log.debug("ignoring an unusable ICC profile", exc_info=True)
        else:
            if converted is not None:
                if im.mode == "CMYK":
                    notes.append("converted CMYK colours to RGB")
                return converted
    if im.mode == "CMYK":
        notes.append("converted CMYK colours to RGB")
    return im.convert("RGB") if im.mode != "RGB" else im
