"""The one validation of a request, before any money is spent or any row is written.

``validate_spec`` checks what a user asked for against the catalog and the region (the facade
calls it once per request, before any attachment byte is read); ``check_media`` checks the
normalised input files against the model once they exist. The job then carries the catalog
model id, and the provider trusts the request the engine builds from it. Every rule comes from
``shared/reference/dashscope-api.md`` (§1.1, §4–§6, §13) through ``core.domain.catalog``; the
media combinations are ``core.domain.combinations``.

Decisions where the API is lenient:

* A prompt longer than the model's limit is **refused**, not truncated. DashScope silently
  truncates (§4.2); a user would then pay for a video of half a prompt without knowing it.
* ``sound=True`` is the "no preference" default of ``JobSpec``: it is accepted on every model and
  only sent as ``parameters.audio`` to models with ``AudioMode.OPTIONAL``. ``sound=False`` on a
  model that always has sound is refused.
* With a ``template`` the prompt is ignored by DashScope (§13); the engine does not send it.
* A negative prompt on a model that documents none (Wan 3.0) is refused, not dropped.
* A duration a region does not offer (wan2.6-i2v: 5/10/15 s in Virginia and Frankfurt) is refused
  naming what that region offers.
"""

from __future__ import annotations

import dataclasses

from core.domain.catalog import (
    ASPECTS,
    EFFECTS,
    FILLS,
    AudioMode,
    Model,
    Region,
    find_model,
    models_in,
)
from core.domain.combinations import Inputs, check_continuation, check_inputs
from core.domain.errors import Input, ValidationError
from core.domain.jobs import JobSpec
from core.domain.tasks import MediaFile

SEED_MAX = 2_147_483_647
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/bmp", "image/webp"})
AUDIO_MIMES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3"})


_MIB = 1024 * 1024


def _mb(n: int) -> str:
    return f"{n / _MIB:.0f} MB"


def resolve_model(name: str, region: Region) -> Model:
    """The catalog model called ``name`` (any regional id), available in ``region``."""
    model = find_model(name)
    if model is None:
        known = ", ".join(m.id for m in models_in(region))
        raise ValidationError(
            f"Unknown model {name!r}. Models in {region.value}: {known}.",
            key="request.model_unknown",
            params={"model": name, "region": region.value, "known": known},
        )
    if not model.available_in(region):
        where = ", ".join(r.value for r in model.region_ids)
        here = ", ".join(m.id for m in models_in(region))
        raise ValidationError(
            f"Model {model.id} is not available in region {region.value} (only in {where}); "
            f"models in {region.value}: {here}.",
            key="request.model_region_here",
            params={"model": model.id, "region": region.value, "regions": where, "known": here},
        )
    return model


def validate_spec(
    spec: JobSpec,
    region: Region,
    *,
    audio: bool = False,
    last_frame: bool = False,
    clip: bool = False,
    image: bool | None = None,
) -> JobSpec:
    """``spec`` with the catalog model id and catalog defaults filled in (empty resolution, zero
    duration, no ratio), or one clear ``ValidationError``. The flags say which files come with
    the request: an audio file, an end image (``last_frame``), a video to continue (``clip``),
    the image (``image``; by default: unless it continues a clip); the combination is checked
    against the model and the region."""
    if spec.aspect not in ASPECTS:
        raise ValidationError(
            f"Unknown aspect {spec.aspect!r}; use one of {', '.join(ASPECTS)}.",
            key="request.aspect",
            params={"aspect": spec.aspect, "choices": ", ".join(ASPECTS)},
            subject=Input.IMAGE,
        )
    if spec.fill not in FILLS:
        raise ValidationError(
            f"Unknown fill {spec.fill!r}; use one of {', '.join(FILLS)}.",
            key="request.fill",
            params={"fill": spec.fill, "choices": ", ".join(FILLS)},
            subject=Input.IMAGE,
        )
    model = resolve_model(spec.model, region)
    resolution = (spec.resolution or model.default_resolution).upper()
    if resolution not in model.resolutions:
        made = ", ".join(model.resolutions)
        raise ValidationError(
            f"{model.id} makes {made} videos, not {resolution}.",
            key="request.resolution",
            params={"model": model.id, "resolutions": made, "resolution": resolution},
        )
    duration = spec.duration or model.default_duration
    _check_duration(model, region, duration)
    _check_text(spec, model)
    _check_template(spec, model)
    first = (not clip) if image is None else image
    inputs = Inputs(first_frame=first, last_frame=last_frame, clip=clip, audio=audio)
    check_inputs(model, region, inputs, template=spec.template)
    _check_sound(spec, model, audio=audio)
    ratio = _check_ratio(spec, model)
    if spec.seed is not None and not 0 <= spec.seed <= SEED_MAX:
        raise ValidationError(
            f"The seed must be a whole number from 0 to {SEED_MAX}.",
            key="request.seed",
            params={"max": SEED_MAX},
        )
    return dataclasses.replace(
        spec, model=model.id, resolution=resolution, duration=duration, ratio=ratio
    )


def check_media(
    model: Model,
    image: MediaFile | None,
    audio: MediaFile | None = None,
    *,
    last_frame: MediaFile | None = None,
    continuation: tuple[Region, int, float] | None = None,
) -> None:
    """The input files (already normalised) fit ``model``; else one ``ValidationError``.
    ``image`` is None when the request continues a clip; ``continuation`` is then (region,
    requested total duration, clip seconds)."""
    if image is None and continuation is None:
        raise ValidationError(
            "An image is required: it becomes the first frame.",
            key="image.missing",
            subject=Input.IMAGE,
        )
    for picture in (image, last_frame):
        if picture is not None:
            _check_image(model, picture)
    if continuation is not None:
        check_continuation(model, *continuation)
    if audio is None:
        return
    if audio.mime.lower() not in AUDIO_MIMES:
        raise ValidationError(
            f"The audio must be WAV or MP3 (got {audio.mime}).",
            key="audio.format",
            params={"mime": audio.mime},
            subject=Input.AUDIO,
        )
    limit = model.audio_limits.max_bytes
    if len(audio.data) > limit:
        raise ValidationError(
            f"The audio file is {_mb(len(audio.data))}; the limit is {_mb(limit)}.",
            key="audio.too_big",
            params={"size_mb": round(len(audio.data) / _MIB, 1), "limit_mb": limit // _MIB},
            subject=Input.AUDIO,
        )


def _check_image(model: Model, image: MediaFile) -> None:
    if not image.data:
        raise ValidationError(
            "An image is required: it becomes the first frame.",
            key="image.missing",
            subject=Input.IMAGE,
        )
    if image.mime.lower() not in IMAGE_MIMES:
        raise ValidationError(
            f"The image must be JPEG, PNG, BMP or WEBP (got {image.mime}).",
            key="image.format",
            params={"mime": image.mime},
            subject=Input.IMAGE,
        )
    if len(image.data) > model.image.max_bytes:
        raise ValidationError(
            f"The image is {_mb(len(image.data))}; {model.id} accepts at most "
            f"{_mb(model.image.max_bytes)}.",
            key="image.too_big",
            params={
                "size_mb": round(len(image.data) / _MIB, 1),
                "limit_mb": model.image.max_bytes // _MIB,
                "model": model.id,
            },
            subject=Input.IMAGE,
        )


def _check_duration(model: Model, region: Region, duration: int) -> None:
    allowed = model.durations_in(region)
    if duration in allowed:
        return
    made = _durations(allowed)
    if allowed != model.durations:
        raise ValidationError(
            f"In {region.value}, {model.id} makes videos of {made}, not {duration} s.",
            key="request.duration_region",
            params={"model": model.id, "region": region.value, "durations": made,
                    "duration": duration},
        )  # fmt: skip
    raise ValidationError(
        f"{model.id} makes videos of {made}, not {duration} s.",
        key="request.duration",
        params={"model": model.id, "durations": made, "duration": duration},
    )


def _durations(d: tuple[int, ...]) -> str:
    if len(d) == 1:
        return f"exactly {d[0]} s"
    if d == tuple(range(d[0], d[-1] + 1)) and len(d) > 3:
        return f"{d[0]} to {d[-1]} s"
    return ", ".join(str(x) for x in d[:-1]) + f" or {d[-1]} s"


def _check_text(spec: JobSpec, model: Model) -> None:
    if spec.prompt is not None and len(spec.prompt) > model.prompt_max:
        raise ValidationError(
            f"The prompt is {len(spec.prompt)} characters; {model.id} reads at most "
            f"{model.prompt_max}. Shorten it.",
            key="request.prompt_too_long",
            params={"length": len(spec.prompt), "model": model.id, "limit": model.prompt_max},
            subject=Input.PROMPT,
        )
    negative = spec.negative_prompt
    if negative and model.negative_prompt_max is None:
        raise ValidationError(
            f"{model.id} takes no negative prompt; describe what you want in the prompt instead.",
            key="request.negative_prompt_model",
            params={"model": model.id},
            subject=Input.NEGATIVE_PROMPT,
        )
    if negative is not None and len(negative) > (model.negative_prompt_max or 0):
        raise ValidationError(
            f"The negative prompt is {len(negative)} characters; the limit is "
            f"{model.negative_prompt_max}.",
            key="request.negative_prompt_too_long",
            params={"length": len(negative), "limit": model.negative_prompt_max},
            subject=Input.NEGATIVE_PROMPT,
        )


def _check_sound(spec: JobSpec, model: Model, *, audio: bool) -> None:
    if spec.sound is False and model.audio is AudioMode.ALWAYS:
        raise ValidationError(
            f"{model.id} always makes videos with sound; pick wan2.6-i2v-flash for a silent one.",
            key="request.silent_unsupported",
            params={"model": model.id},
        )
    if audio and spec.sound is False and model.audio is AudioMode.OPTIONAL:
        raise ValidationError(
            "A silent video cannot use an audio file; drop the audio or the silent option.",
            key="audio.silent",
            subject=Input.AUDIO,
        )


def _check_ratio(spec: JobSpec, model: Model) -> str | None:
    """The output ratio to send: the model's default when none is asked (Wan 3.0 only)."""
    if spec.ratio is None:
        return model.default_ratio
    if not model.ratios:
        raise ValidationError(
            f"{model.id} follows the shape of its input and takes no output ratio; use the "
            "aspect option to crop the image instead.",
            key="request.ratio_model",
            params={"model": model.id},
        )
    if spec.ratio not in model.ratios:
        choices = ", ".join(model.ratios)
        raise ValidationError(
            f"{model.id} makes videos in the ratios {choices}, not {spec.ratio!r}.",
            key="request.ratio",
            params={"model": model.id, "ratios": choices, "ratio": spec.ratio},
        )
    return spec.ratio


def _check_template(spec: JobSpec, model: Model) -> None:
    if spec.template is None:
        return
    if spec.template not in EFFECTS:
        raise ValidationError(
            f"Unknown effect {spec.template!r}.",
            key="request.effect_unknown",
            params={"effect": spec.template},
        )
    if spec.template not in model.effects:
        raise ValidationError(
            f"{model.id} does not offer the effect {spec.template!r}; "
            "effects work with wanx2.1-i2v-plus (all), wanx2.1-i2v-turbo (some) and, for the "
            "first-and-last-frame effects, wanx2.1-kf2v-plus.",
            key="request.effect_model",
            params={"model": model.id, "effect": spec.template},
        )
