"""Which input media a request may carry, on which model, in which region; continuing a clip.

The legal sets are each model's ``combinations`` (``core.domain.capabilities``), exactly as the
reference lists them: wan2.7-i2v §5.3 (``first_frame`` · ``+driving_audio`` · ``+last_frame`` ·
``+last_frame+driving_audio`` · ``first_clip`` · ``first_clip+last_frame``), kf2v §5.4 (first and
last frame; a template takes the first alone), Wan 3.0 §5.5 (first frame, or first and last),
the legacy models §4 (the image, and on wan2.5/2.6 an audio file). A clip and an audio file travel
only as URLs (no Base64, reference §5.3/§6.4), so they need the region's temporary storage (§11).
Every refusal says what the model, or the region, can do instead.

Continuing a clip (wan2.7 ``first_clip``): ``duration`` is the length of the whole output, the
clip included, and that is what DashScope bills (§5.3); a total not longer than the clip is
refused (what it would do is undocumented).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.domain.capabilities import TEMPLATE_MEDIA, Combination, Media, Model
from core.domain.catalog import models_taking
from core.domain.errors import Input, ValidationError
from core.domain.regions import REGIONS, Region

_WORDS = {
    Media.FIRST_FRAME: "image",
    Media.LAST_FRAME: "end image",
    Media.CLIP: "clip",
    Media.AUDIO: "audio",
}
_ORDER = (Media.FIRST_FRAME, Media.CLIP, Media.LAST_FRAME, Media.AUDIO)


@dataclass(frozen=True, slots=True)
class Inputs:
    """The files a request comes with: the image (first frame) unless it continues a clip."""

    first_frame: bool = True
    last_frame: bool = False
    clip: bool = False
    audio: bool = False

    @property
    def media(self) -> Combination:
        given = {
            Media.FIRST_FRAME: self.first_frame,
            Media.LAST_FRAME: self.last_frame,
            Media.CLIP: self.clip,
            Media.AUDIO: self.audio,
        }
        return frozenset(m for m, present in given.items() if present)


class MediaWords(str):
    """Media combinations in English words (``image + end image; clip``) that remember which
    media they name, so a front-end can say them in the reader's language (``media.word.*``
    catalog keys). A plain string everywhere else (stored, logged, compared)."""

    sets: tuple[tuple[Media, ...], ...]

    def __new__(cls, sets: Iterable[Combination]) -> MediaWords:
        ordered = tuple(tuple(m for m in _ORDER if m in combo) for combo in sets)
        english = "; ".join(" + ".join(_WORDS[m] for m in c) or "nothing" for c in ordered)
        words = super().__new__(cls, english)
        words.sets = ordered
        return words


def describe(combo: Combination) -> MediaWords:
    """``image + end image``: a combination in words."""
    return MediaWords([combo])


def legal_text(model: Model) -> MediaWords:
    """Every combination ``model`` takes, e.g. ``image; image + end image; clip``."""
    ordered = sorted(model.combinations, key=lambda c: (Media.CLIP in c, len(c), describe(c)))
    return MediaWords(ordered)


def _ids(models: tuple[Model, ...]) -> str:
    return ", ".join(m.id for m in models) or "none"


def check_inputs(model: Model, region: Region, inputs: Inputs, *, template: str | None) -> None:
    """``inputs`` are a legal set for ``model`` in ``region``; else one ``ValidationError``
    naming what the model (or the region) takes instead."""
    media = inputs.media
    if template is not None and media != TEMPLATE_MEDIA:
        raise ValidationError(
            f"An effect takes the image alone; leave out the {describe(media - TEMPLATE_MEDIA)}.",
            key="media.template",
            params={"given": describe(media - TEMPLATE_MEDIA)},
        )
    if template is None and media not in model.combinations:
        raise _refusal(model, region, media)
    for kind in (Media.CLIP, Media.AUDIO):
        if kind in media and not REGIONS[region].temporary_storage:
            raise storage_refusal(kind, region)


def _refusal(model: Model, region: Region, media: Combination) -> ValidationError:
    """The clearest reason ``media`` is not one of ``model``'s combinations."""
    if not (media & {Media.FIRST_FRAME, Media.CLIP}):
        return ValidationError(
            "An image is required: it becomes the first frame.",
            key="image.missing",
            subject=Input.IMAGE,
        )
    if Media.AUDIO in media and not model.takes(Media.AUDIO):
        able = _ids(models_taking(Media.AUDIO, region))
        return ValidationError(
            f"{model.id} cannot use an audio file; models that can in {region.value}: {able}.",
            key="audio.model",
            params={"model": model.id, "region": region.value, "models": able},
            subject=Input.AUDIO,
        )
    if Media.CLIP in media and not model.takes(Media.CLIP):
        able = _ids(models_taking(Media.CLIP, region))
        return ValidationError(
            f"{model.id} cannot continue a video; models that can in {region.value}: {able}.",
            key="media.clip_model",
            params={"model": model.id, "region": region.value, "models": able},
            subject=Input.CLIP,
        )
    if Media.LAST_FRAME in media and not model.takes(Media.LAST_FRAME):
        able = _ids(models_taking(Media.LAST_FRAME, region))
        return ValidationError(
            f"{model.id} cannot end on a chosen image; models that can in {region.value}: {able}.",
            key="media.last_frame_model",
            params={"model": model.id, "region": region.value, "models": able},
            subject=Input.IMAGE,
        )
    if Media.LAST_FRAME not in media and all(Media.LAST_FRAME in c for c in model.combinations):
        return ValidationError(
            f"{model.id} makes a video from a first to a last frame: attach an end image too.",
            key="media.last_frame_required",
            params={"model": model.id},
            subject=Input.IMAGE,
        )
    given, legal = describe(media), legal_text(model)
    return ValidationError(
        f"{model.id} cannot take {given} together; it takes: {legal}.",
        key="media.combination",
        params={"model": model.id, "given": given, "legal": legal},
    )


def storage_refusal(kind: Media, region: Region) -> ValidationError:
    """Why a clip or an audio file cannot be sent from ``region`` (no temporary storage)."""
    if kind is Media.AUDIO:
        return ValidationError(
            "Your own audio file only works in the China (Beijing) region, where DashScope "
            f"keeps uploaded files; this bot uses {region.value}. Leave out the audio file.",
            key="audio.region",
            params={"region": region.value},
            subject=Input.AUDIO,
        )
    return ValidationError(
        "Continuing a video only works in the China (Beijing) region, where DashScope keeps "
        f"uploaded files; this bot uses {region.value}. Send a picture instead.",
        key="clip.region",
        params={"region": region.value},
        subject=Input.CLIP,
    )


# ---------------------------------------------------------------------------- continuation
def continuation_durations(model: Model, region: Region, clip_seconds: float) -> tuple[int, ...]:
    """The totals (clip included) a continuation of a ``clip_seconds`` clip may ask for."""
    return tuple(d for d in model.durations_in(region) if d > clip_seconds)


def check_continuation(model: Model, region: Region, duration: int, clip_seconds: float) -> None:
    """``duration`` (the whole output) is longer than the clip it continues."""
    if duration > clip_seconds:
        return
    longest = max(model.durations_in(region))
    raise ValidationError(
        f"With a clip to continue, the duration is the length of the whole video, the clip "
        f"included: the clip lasts {clip_seconds:.1f} s, so ask for more than that "
        f"(up to {longest} s).",
        key="clip.duration_within",
        params={"duration": duration, "clip_seconds": round(clip_seconds, 1), "max": longest},
        subject=Input.CLIP,
    )


def continuation_model(model: Model, region: Region) -> Model | None:
    """The model that continues (Extend) a video ``model`` made: the same model, when it takes
    clips and the region can take the upload; None otherwise (no Extend button)."""
    return model if model in models_taking(Media.CLIP, region) else None
