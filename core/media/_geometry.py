"""Pure geometry for image normalisation: where to crop, how large the output is.

Everything here is arithmetic on sizes, so the rules (aspect presets, side limits, extreme-ratio
crop) can be tested without decoding a single pixel. Boxes are fractions of the upright source
image, which lets the caller decode a JPEG at a reduced "draft" scale and still apply the same plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.domain.catalog import ASPECTS

Box = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the source
FULL: Box = (0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with an upright ``src_w``×``src_h`` image."""

    width: int  # output canvas size
    height: int
    content_box: Box  # part of the source that is shown sharp
    content_size: tuple[int, int]  # its size on the canvas (== canvas unless padded)
    pad_box: Box | None  # part of the source stretched, blurred, behind the content (blur fill)
    scale: float  # output pixels per source pixel (for JPEG draft decoding)
    cropped_ratio: bool  # an extreme ratio was cut down to the largest allowed one

    @property
    def padded(self) -> bool:
        return self.pad_box is not None


def _centre_box(src_w: int, src_h: int, ratio: float) -> Box:
    """The largest centred box of ``ratio`` (w/h) inside the source, as fractions."""
    src_ratio = src_w / src_h
    if math.isclose(src_ratio, ratio, rel_tol=1e-3):
        return FULL
    if src_ratio > ratio:  # too wide: cut the sides
        keep = ratio / src_ratio
        return ((1 - keep) / 2, 0.0, (1 + keep) / 2, 1.0)
    keep = src_ratio / ratio  # too tall: cut top and bottom
    return (0.0, (1 - keep) / 2, 1.0, (1 + keep) / 2)


def _box_size(src_w: int, src_h: int, box: Box) -> tuple[float, float]:
    return (box[2] - box[0]) * src_w, (box[3] - box[1]) * src_h


def _fit(w: float, h: float, lo: int, hi: int) -> tuple[int, int, float]:
    """Scale ``w``×``h`` so the long side is ≤ ``hi`` and the short side ≥ ``lo``.

    Downscales only when too large and upscales only when too small; callers guarantee the ratio
    fits (long/short ≤ hi/lo), so both conditions can hold at once.
    """
    scale = min(1.0, hi / max(w, h))
    if min(w, h) * scale < lo:
        scale = lo / min(w, h)
    out_w = min(hi, max(lo, round(w * scale)))
    out_h = min(hi, max(lo, round(h * scale)))
    return out_w, out_h, scale


def plan(src_w: int, src_h: int, *, aspect: str, fill: str, lo: int, hi: int) -> Plan:
    """Plan the output for an upright source of ``src_w``×``src_h`` pixels.

    ``aspect`` must be a key of :data:`ASPECTS` and ``fill`` one of :data:`FILLS` (the caller
    validates user input). ``lo``/``hi`` bound both output sides.
    """
    preset = ASPECTS[aspect]
    max_ratio = hi / lo
    cropped_ratio = False
    pad_box: Box | None = None
    if preset is None:
        ratio = src_w / src_h
        content_box = FULL
        if ratio > max_ratio or ratio < 1 / max_ratio:
            ratio = max_ratio if ratio > 1 else 1 / max_ratio
            content_box = _centre_box(src_w, src_h, ratio)
            cropped_ratio = True
        cw, ch = _box_size(src_w, src_h, content_box)
        out_w, out_h, scale = _fit(cw, ch, lo, hi)
        return Plan(out_w, out_h, content_box, (out_w, out_h), None, scale, cropped_ratio)

    ratio = preset[0] / preset[1]
    if fill == "crop":
        content_box = _centre_box(src_w, src_h, ratio)
        cw, ch = _box_size(src_w, src_h, content_box)
        out_w, out_h, scale = _fit(cw, ch, lo, hi)
        return Plan(out_w, out_h, content_box, (out_w, out_h), None, scale, cropped_ratio)

    # blur: a canvas of the preset ratio that just contains the whole source
    if src_w / src_h > ratio:
        canvas_w, canvas_h = float(src_w), src_w / ratio
    else:
        canvas_w, canvas_h = src_h * ratio, float(src_h)
    out_w, out_h, scale = _fit(canvas_w, canvas_h, lo, hi)
    content_w = max(1, min(out_w, round(src_w * scale)))
    content_h = max(1, min(out_h, round(src_h * scale)))
    if (content_w, content_h) != (out_w, out_h):
        pad_box = _centre_box(src_w, src_h, ratio)
    return Plan(out_w, out_h, FULL, (content_w, content_h), pad_box, scale, cropped_ratio)


def to_pixels(box: Box, width: int, height: int) -> tuple[float, float, float, float]:
    """A fractional box in pixel coordinates of a ``width``×``height`` image."""
    return (box[0] * width, box[1] * height, box[2] * width, box[3] * height)
