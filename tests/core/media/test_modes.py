"""working_copy: strip by strip it gives the same pixels as converting the whole picture at once.

The memory saving itself is measured in ``bench/bench_media.py``; here the point is that strips
are invisible in the result (one scale for all, exact block boundaries, no seams).
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from core.domain.catalog import MODELS
from core.media import normalise_image
from core.media._modes import _STRIP_BYTES, working_copy
from tests.core.media import corpus


def tall(mode: str, width: int, strips: float) -> Image.Image:
    """A ``mode`` picture tall enough to be cut into about ``strips`` strips."""
    return Image.new(mode, (width, int(_STRIP_BYTES / (4 * width) * strips)))


def whole_to_l(im: Image.Image, low: float, high: float) -> Image.Image:
    return im.point(lambda v: (v - low) * (255.0 / (high - low))).convert("L")


def biggest_difference(a: Image.Image, b: Image.Image) -> int:
    assert a.size == b.size and a.mode == b.mode
    return int(max(high for _, high in ImageStat.Stat(ImageChops.difference(a, b)).extrema))


def test_float_strips_share_the_whole_pictures_range() -> None:
    # values rise down the picture: scaling each strip by its own range would show bands
    im = tall("F", 300, 2.5)
    im.putdata([float(y * 7) for y in range(im.height) for _ in range(im.width)])
    notes: list[str] = []
    out = working_copy(im, 1, notes)
    assert out.mode == "L" and out.size == im.size
    assert biggest_difference(out, whole_to_l(im, 0.0, (im.height - 1) * 7.0)) <= 1
    assert notes == ["reduced 16-bit colour to 8-bit"]


def test_reduced_strips_are_the_whole_pictures_blocks() -> None:
    # a transparent picture with an odd size: the last strip and column are partial blocks
    im = corpus.photo(501, int(_STRIP_BYTES / (4 * 501) * 2.3) + 3).convert("RGBA")
    im.putalpha(Image.linear_gradient("L").resize(im.size))
    notes: list[str] = []
    out = working_copy(im, 3, notes)
    whole = Image.new("RGB", im.size, (255, 255, 255))
    whole.paste(im, mask=im.getchannel("A"))
    assert biggest_difference(out, whole.reduce(3)) == 0
    assert notes == ["filled the transparent background with white"]


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_working_modes_are_not_copied(mode: str) -> None:
    im = Image.new(mode, (64, 64))
    assert working_copy(im, 4, []) is im


def test_a_large_16_bit_png_looks_as_if_resized_whole() -> None:
    # 8100 px wide: shrunk by reduce(2) before LANCZOS, which must not be visible
    ramp = Image.linear_gradient("L").rotate(90).resize((8100, 1500))
    noise = Image.effect_noise((8100, 1500), 30)
    deep = Image.blend(ramp, noise, 0.3).convert("I").point(lambda v: v * 257)
    data = corpus.save(deep.convert("I;16"), "PNG")
    result = normalise_image(data, MODELS["wan2.6-i2v-flash"])
    out = Image.open(io.BytesIO(result.data)).convert("L")
    reference = whole_to_l(deep, 0.0, 65535.0).resize(out.size, Image.Resampling.LANCZOS)
    mean_error = ImageStat.Stat(ImageChops.difference(out, reference)).mean[0]
    assert mean_error < 1.0, mean_error
    assert "reduced 16-bit colour to 8-bit" in result.notes
