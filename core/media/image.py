"""Turn whatever image a user uploads into one DashScope accepts (reference §6.1).

DashScope takes JPEG, PNG without alpha, BMP or WEBP, each side within the model's range and the
file under its byte limit. Users send phone photos with EXIF rotation, transparent PNGs, GIFs, huge
screenshots, emojis, CMYK or 16-bit files, AVIF and HEIC. :func:`normalise_image` identifies the
file by its content (never by name or claimed type), refuses what it cannot read with a message
that says what to do, and otherwise returns an upright RGB JPEG or PNG whose sides lie within
``SAFE_MIN_SIDE..SAFE_MAX_SIDE`` (valid under both documented rule versions) and whose size leaves
room for base64 inflation. CPU-bound: call it through :class:`core.media.pool.MediaPool`.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageFilter, UnidentifiedImageError

from core.domain.catalog import ASPECTS, FILLS, SAFE_MAX_SIDE, SAFE_MIN_SIDE, Model
from core.domain.errors import Input, ValidationError
from core.media import _geometry
from core.media._modes import to_srgb as _to_srgb
from core.media._modes import working_copy

log = logging.getLogger(__name__)

_MB = 1024 * 1024
#: Largest upload we even try to parse: well above any phone photo (a 108 MP JPEG is ~30 MB).
MAX_INPUT_BYTES = 64 * _MB
#: Largest decoded pixel count: 10000×10000 and 108 MP phone photos pass, bombs do not.
MAX_INPUT_PIXELS = 100_000_000
#: Below this shorter side a picture has too little detail to animate (a 1×1 pixel, a favicon).
MIN_SOURCE_SIDE = 32
#: Encoded bytes never exceed this, whatever the model allows: the image travels base64-encoded
#: (+33 %) inside a JSON body whose size limit is undocumented (reference §6.2).
MAX_OUTPUT_BYTES = 5 * _MB
_JPEG_QUALITIES = (92, 85, 75, 65)
#: A picture shrunk by box averaging (``reduce``) to within this factor of its output size, then
#: resampled with LANCZOS, is indistinguishable from LANCZOS alone (Pillow's ``reducing_gap``).
_REDUCING_GAP = 2.0
#: EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: Formats Pillow may try; restricting the list keeps exotic parsers away from untrusted bytes.
_READ_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "DIB", "TIFF", "AVIF", "ICO", "PPM", "TGA")
_LOSSLESS_SOURCES = frozenset({"PNG", "GIF", "BMP", "DIB", "ICO", "PPM", "TGA"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_VIDEO_BRANDS = frozenset({b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"avc1", b"3gp4"})
#: Pillow's decoding errors for damaged files are not one class; these are the ones it raises.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError,
                  struct.error, zlib.error, ZeroDivisionError)  # fmt: skip

# Pillow's own bomb guard is process-wide. Align it with our limit so it only fires for images
# we refuse anyway (warning above 1x, error above 2x); our explicit check gives the message.
Image.MAX_IMAGE_PIXELS = MAX_INPUT_PIXELS


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    """An image ready for ``img_url``: JPEG or PNG bytes without alpha, within every limit."""

    data: bytes
    mime: str  # "image/jpeg" | "image/png"
    width: int
    height: int
    notes: tuple[str, ...]  # user-facing remarks on what was changed, e.g. "rotated upright"
    source_format: str = ""  # what the upload really was (Pillow's name, e.g. "JPEG", "AVIF")
    source_width: int = 0  # upright size of the upload
    source_height: int = 0

    def data_uri(self) -> str:
        """The ``data:{mime};base64,…`` form DashScope accepts in ``img_url`` (reference §6.2)."""
        import base64  # local: only the provider path needs it

        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def _refuse(message: str, key: str, **params: object) -> ValidationError:
    return ValidationError(message, key=f"image.{key}", params=params, subject=Input.IMAGE)


_CONVERT_HINT = "Please send it as a JPEG, PNG or WEBP picture."


def _unreadable(data: bytes) -> ValidationError:
    """The best message for bytes Pillow could not identify, judged by their signature."""
    head = data[:64]
    if head.startswith(b"%PDF"):
        return _refuse(
            "That file is a PDF document, not a picture. Export the page as an image "
            "(JPEG or PNG) and attach that instead.",
            "pdf",
        )
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS or any(b in head[16:64] for b in _HEIF_BRANDS):
            return _refuse(
                "That looks like a HEIC/HEIF photo, which can't be read here. Convert it to JPEG "
                "or PNG first (on an iPhone: Settings → Camera → Formats → Most Compatible).",
                "heic",
            )
        if brand in _VIDEO_BRANDS:
            return _refuse("That file is a video, not a picture. " + _CONVERT_HINT, "video")
    stripped = head.lstrip()
    if stripped.startswith((b"<svg", b"<?xml")):
        return _refuse(
            "Vector (SVG) images aren't supported. Export it as a PNG and attach that.", "svg"
        )
    return _refuse("That file isn't a picture I can read. " + _CONVERT_HINT, "unreadable")


def _damaged() -> ValidationError:
    return _refuse(
        "The picture seems damaged or incomplete (perhaps the upload was cut off). "
        "Re-export or re-upload it and try again.",
        "damaged",
    )


def _too_many_pixels(width: int, height: int) -> ValidationError:
    return _refuse(
        f"The picture is too large ({width}×{height} pixels). Resize it to at most "
        f"{MAX_INPUT_PIXELS // 1_000_000} megapixels and try again.",
        "too_many_pixels",
        width=width,
        height=height,
    )


def _open(data: bytes) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data), formats=_READ_FORMATS)
    except UnidentifiedImageError:
        raise _unreadable(data) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # a Warning only arrives as an exception when warnings are errors (tests); same answer
        raise _refuse(
            "The picture claims an absurd number of pixels and was refused. "
            "Resize it and try again.",
            "bomb",
        ) from None
    except _DECODE_ERRORS:
        raise _damaged() from None
    width, height = im.size
    if width * height > MAX_INPUT_PIXELS:
        raise _too_many_pixels(width, height)
    return im


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:  # a broken EXIF block must not sink the picture
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _render(im: Image.Image, p: _geometry.Plan) -> Image.Image:
    w, h = im.size
    content = im.resize(
        p.content_size,
        Image.Resampling.LANCZOS,
        box=_geometry.to_pixels(p.content_box, w, h),
        reducing_gap=3.0,
    )
    if p.pad_box is None:
        return content
    # Blur a small copy and stretch it: cheap, and the result is smooth anyway.
    small = (max(1, p.width // 8), max(1, p.height // 8))
    box = _geometry.to_pixels(p.pad_box, w, h)
    back = im.resize(small, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
    back = back.filter(ImageFilter.GaussianBlur(radius=3)).resize(
        (p.width, p.height), Image.Resampling.BICUBIC
    )
    offset = ((p.width - p.content_size[0]) // 2, (p.height - p.content_size[1]) // 2)
    back.paste(content, offset)
    return back


def _encode(im: Image.Image, *, lossless_source: bool, budget: int) -> tuple[bytes, str]:
    if lossless_source:
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=6)
        if buf.tell() <= budget:
            return buf.getvalue(), "image/png"
    for quality in _JPEG_QUALITIES:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality, subsampling="4:2:0")
        if buf.tell() <= budget:
            return buf.getvalue(), "image/jpeg"
    return b"", "image/jpeg"


def _check_options(aspect: str, fill: str) -> None:
    if aspect not in ASPECTS:
        raise ValidationError(
            f"Unknown aspect {aspect!r}; choose one of: {', '.join(ASPECTS)}.",
            key="image.aspect",
            params={"aspect": aspect},
            subject=Input.IMAGE,
        )
    if fill not in FILLS:
        raise ValidationError(
            f"Unknown fill {fill!r}; choose one of: {', '.join(FILLS)}.",
            key="image.fill",
            params={"fill": fill},
            subject=Input.IMAGE,
        )


def normalise_image(
    data: bytes, model: Model, *, aspect: str = "original", fill: str = "crop"
) -> NormalisedImage:
    """Make ``data`` a valid first frame for ``model``, or raise :class:`ValidationError`.

    ``aspect`` is one of :data:`ASPECTS` (``original`` keeps the ratio; the API keeps whatever
    ratio it is given), ``fill`` is ``crop`` (centre cut) or ``blur`` (pad with a blurred copy).
    """
    _check_options(aspect, fill)
    if not data:
        raise _refuse("The file is empty (0 bytes). Attach the picture again.", "empty")
    if len(data) > MAX_INPUT_BYTES:
        raise _refuse(
            f"The file is {len(data) / _MB:.0f} MB; pictures up to "
            f"{MAX_INPUT_BYTES // _MB} MB are accepted. Resize or compress it first.",
            "too_big",
            size_mb=round(len(data) / _MB, 1),
            limit_mb=MAX_INPUT_BYTES // _MB,
        )
    lo = max(SAFE_MIN_SIDE, model.image.min_side)
    hi = min(SAFE_MAX_SIDE, model.image.max_side)
    budget = min(MAX_OUTPUT_BYTES, model.image.max_bytes // 2)
    notes: list[str] = []
    im = _open(data)
    source_format = im.format or "unknown"
    try:
        if getattr(im, "n_frames", 1) > 1:
            notes.append("used the first frame of the animation")
        orientation = _orientation(im)
        stored_w, stored_h = im.size
        upright = (stored_h, stored_w) if orientation >= 5 else (stored_w, stored_h)
        if min(upright) < MIN_SOURCE_SIDE:
            raise _refuse(
                f"The picture is only {upright[0]}×{upright[1]} pixels, too small to animate. "
                f"Send one at least {MIN_SOURCE_SIDE} pixels on its shorter side "
                f"({SAFE_MIN_SIDE} or more looks good).",
                "too_small",
                width=upright[0],
                height=upright[1],
            )
        p = _geometry.plan(*upright, aspect=aspect, fill=fill, lo=lo, hi=hi)
        if source_format == "JPEG" and p.scale < 0.5:
            # Decode at 1/2, 1/4 or 1/8 scale straight from the DCT: a 24 MP photo costs
            # a fraction of the time and memory. The plan is in fractions, so it still holds.
            im.draft(None, (math.ceil(stored_w * p.scale), math.ceil(stored_h * p.scale)))
        im.load()
        icc = im.info.get("icc_profile")
        # Converted strip by strip and shrunk on the way: the decoded picture is the only
        # full-size buffer (a 100 MP 16-bit PNG no longer passes through 400 MB copies).
        shrink = p.scale * im.width / stored_w  # output pixels per decoded pixel (after draft)
        im = working_copy(im, max(1, int(1 / (shrink * _REDUCING_GAP))), notes)
        if orientation != 1:
            im = im.transpose(_UPRIGHT[orientation])
            notes.append("rotated upright using the photo's orientation tag")
        out = _to_srgb(_render(im, p), icc if isinstance(icc, bytes) else None, notes)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(*im.size) from None
    except _DECODE_ERRORS:
        log.debug("image decode failed", exc_info=True)
        raise _damaged() from None
    _describe_geometry(notes, upright, p, aspect, fill)
    encoded, mime = _encode(out, lossless_source=source_format in _LOSSLESS_SOURCES, budget=budget)
    while not encoded and min(out.size) * 0.8 >= lo:
        smaller = (round(out.width * 0.8), round(out.height * 0.8))
        out = out.resize(smaller, Image.Resampling.LANCZOS)
        encoded, mime = _encode(out, lossless_source=False, budget=budget)
    if not encoded:  # pragma: no cover - needs >5 MB of JPEG at q65 within 2000×2000 px
        raise _refuse("The picture could not be compressed enough. Try a simpler one.", "bytes")
    return NormalisedImage(
        data=encoded,
        mime=mime,
        width=out.width,
        height=out.height,
        notes=tuple(notes),
        source_format=source_format,
        source_width=upright[0],
        source_height=upright[1],
    )


def _describe_geometry(
    notes: list[str], upright: tuple[int, int], p: _geometry.Plan, aspect: str, fill: str
) -> None:
    src = f"{upright[0]}×{upright[1]}"
    if p.cropped_ratio:
        notes.append(f"cut the middle out of a very long picture ({src}) to fit the size limits")
    if aspect != "original":
        if fill == "blur" and p.padded:
            notes.append(f"padded to {aspect} with a blurred background")
        elif fill == "crop" and p.content_box != _geometry.FULL:
            notes.append(f"cropped to {aspect}")
    if p.scale < 1.0 - 1e-6:
        notes.append(f"scaled down from {src} to {p.width}×{p.height}")
    elif p.scale > 1.0 + 1e-6:
        notes.append(f"scaled up from {src} to {p.width}×{p.height}; small pictures look soft")
