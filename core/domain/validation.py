"""The one validation of a request, before any money is spent or any row is written.

``validate_spec`` checks what a user asked for against the catalog and the region (the facade
calls it once per request, before any attachment byte is read); ``check_media`` checks the
normalised input files against the model once they exist. The job then carries the catalog
model id, and the provider trusts the request the engine builds from it. Every rule comes from
``shared/reference/dashscope-api.md`` (§4–§6, §13) through ``core.domain.catalog``.

Decisions where the API is lenient:

* A prompt longer than the model's limit is **refused**, not truncated. DashScope silently
  truncates (§4.2); a user would then pay for a video of half a prompt without knowing it.
* ``sound=True`` is the "no preference" default of ``JobSpec``: it is accepted on every model and
  only sent as ``parameters.audio`` to models with ``AudioMode.OPTIONAL``. ``sound=False`` on a
  model that always has sound is refused.
* With a ``template`` the prompt is ignored by DashScope (§13); the engine does not send it.
"""

from __future__ import annotations

import dataclasses

from core.domain.catalog import (
    ASPECTS,
    AUDIO_LIMITS,
    EFFECTS,
    FILLS,
    AudioMode,
    Model,
    Region,
    find_model,
    models_in,
)
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
        raise ValidationError(
            f"Model {model.id} is not available in region {region.value} (only in {where}).",
            key="request.model_region",
            params={"model": model.id, "region": region.value, "regions": where},
        )
    return model


def validate_spec(spec: JobSpec, region: Region, *, audio: bool = False) -> JobSpec:
    """``spec`` with the catalog model id and catalog defaults filled in (empty resolution, zero
    duration), or one clear ``ValidationError``. ``audio``: the request comes with an audio
    file (checked against the model, the sound option and the region)."""
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
    if duration not in model.durations:
        made = _durations(model)
        raise ValidationError(
            f"{model.id} makes videos of {made}, not {duration} s.",
            key="request.duration",
            params={"model": model.id, "durations": made, "duration": duration},
        )
    _check_text(spec, model)
    _check_audio(spec, model, region, audio=audio)
    _check_template(spec, model)
    if spec.seed is not None and not 0 <= spec.seed <= SEED_MAX:
        raise ValidationError(
            f"The seed must be a whole number from 0 to {SEED_MAX}.",
            key="request.seed",
            params={"max": SEED_MAX},
        )
    return dataclasses.replace(spec, model=model.id, resolution=resolution, duration=duration)


def check_media(model: Model, image: MediaFile, audio: MediaFile | None = None) -> None:
    """The input files (already normalised) fit ``model``; else one ``ValidationError``."""
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
    if audio is None:
        return
    if audio.mime.lower() not in AUDIO_MIMES:
        raise ValidationError(
            f"The audio must be WAV or MP3 (got {audio.mime}).",
            key="audio.format",
            params={"mime": audio.mime},
            subject=Input.AUDIO,
        )
    if len(audio.data) > AUDIO_LIMITS.max_bytes:
        raise ValidationError(
            f"The audio file is {_mb(len(audio.data))}; the limit is "
            f"{_mb(AUDIO_LIMITS.max_bytes)}.",
            key="audio.too_big",
            params={
                "size_mb": round(len(audio.data) / _MIB, 1),
                "limit_mb": AUDIO_LIMITS.max_bytes // _MIB,
            },
            subject=Input.AUDIO,
        )


def _durations(model: Model) -> str:
    d = model.durations
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
    if negative is not None and len(negative) > model.negative_prompt_max:
        raise ValidationError(
            f"The negative prompt is {len(negative)} characters; the limit is "
            f"{model.negative_prompt_max}.",
            key="request.negative_prompt_too_long",
            params={"length": len(negative), "limit": model.negative_prompt_max},
            subject=Input.NEGATIVE_PROMPT,
        )


def _check_audio(spec: JobSpec, model: Model, region: Region, *, audio: bool) -> None:
    if spec.sound is False and model.audio is AudioMode.ALWAYS:
        raise ValidationError(
            f"{model.id} always makes videos with sound; pick wan2.6-i2v-flash for a silent one.",
            key="request.silent_unsupported",
            params={"model": model.id},
        )
    if not audio:
        return
    if not model.custom_audio:
        raise ValidationError(
            f"{model.id} cannot use an audio file; pick a wan2.5, wan2.6 or wan2.7 model.",
            key="audio.model",
            params={"model": model.id},
            subject=Input.AUDIO,
        )
    if spec.sound is False and model.audio is AudioMode.OPTIONAL:
        raise ValidationError(
            "A silent video cannot use an audio file; drop the audio or the silent option.",
            key="audio.silent",
            subject=Input.AUDIO,
        )
    if region is not Region.BEIJING:
        # the temporary upload (reference §11) exists only in Beijing
        raise ValidationError(
            "Your own audio file only works in the China (Beijing) region, where DashScope "
            f"keeps uploaded files; this bot uses {region.value}. Leave out the audio file.",
            key="audio.region",
            params={"region": region.value},
            subject=Input.AUDIO,
        )


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
            "effects work with wanx2.1-i2v-plus (all) and wanx2.1-i2v-turbo (some).",
            key="request.effect_model",
            params={"model": model.id, "effect": spec.template},
        )
