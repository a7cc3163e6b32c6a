"""Check a ``TaskRequest`` against the model catalog before any money is spent.

Pure (no I/O): the DashScope client calls it before every create, and anything that builds a
request (the engine, the CLI) can call it earlier for a clear message. Every rule comes from
``shared/reference/dashscope-api.md`` (§4–§6, §13) through ``core.catalog``.

Decisions where the API is lenient:

* A prompt longer than the model's limit is **refused**, not truncated. DashScope silently
  truncates (§4.2); a user would then pay for a video of half a prompt without knowing it.
* ``sound=True`` is the "no preference" default of ``JobSpec``: it is accepted on every model and
  only sent as ``parameters.audio`` to models with ``AudioMode.OPTIONAL``. ``sound=False`` on a
  model that always has sound is refused.
* With a ``template`` the prompt is ignored by DashScope (§13); the client does not send it.
"""

from __future__ import annotations

import dataclasses

from core.catalog import AUDIO_LIMITS, EFFECTS, AudioMode, Model, Region, find_model, models_in
from core.errors import Input, ValidationError
from core.tasks import TaskRequest

SEED_MAX = 2_147_483_647
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/bmp", "image/webp"})
AUDIO_MIMES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3"})


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def resolve_model(name: str, region: Region) -> Model:
    """The catalog model called ``name`` (any regional id), available in ``region``."""
    model = find_model(name)
    if model is None:
        known = ", ".join(m.id for m in models_in(region))
        raise ValidationError(f"Unknown model {name!r}. Models in {region.value}: {known}.")
    if not model.available_in(region):
        where = ", ".join(r.value for r in model.region_ids)
        raise ValidationError(
            f"Model {model.id} is not available in region {region.value} (only in {where})."
        )
    return model


def validate_request(request: TaskRequest, region: Region) -> TaskRequest:
    """Return ``request`` with catalog defaults filled in, or raise one clear ``ValidationError``.

    ``request.model`` may be any regional id; the result carries the catalog (Beijing) id.
    """
    model = resolve_model(request.model, region)
    resolution = (request.resolution or model.default_resolution).upper()
    if resolution not in model.resolutions:
        raise ValidationError(
            f"{model.id} makes {', '.join(model.resolutions)} videos, not {resolution}."
        )
    duration = model.default_duration if request.duration is None else request.duration
    if duration not in model.durations:
        raise ValidationError(f"{model.id} makes videos of {_durations(model)}, not {duration} s.")
    _check_image(request, model)
    _check_text(request, model)
    _check_audio(request, model, region)
    _check_template(request, model)
    if request.seed is not None and not 0 <= request.seed <= SEED_MAX:
        raise ValidationError(f"The seed must be a whole number from 0 to {SEED_MAX}.")
    return dataclasses.replace(request, model=model.id, resolution=resolution, duration=duration)


def _durations(model: Model) -> str:
    d = model.durations
    if len(d) == 1:
        return f"exactly {d[0]} s"
    if d == tuple(range(d[0], d[-1] + 1)) and len(d) > 3:
        return f"{d[0]} to {d[-1]} s"
    return ", ".join(str(x) for x in d[:-1]) + f" or {d[-1]} s"


def _check_image(request: TaskRequest, model: Model) -> None:
    image = request.image
    if not image.data:
        raise ValidationError(
            "An image is required: it becomes the first frame.", subject=Input.IMAGE
        )
    if image.mime.lower() not in IMAGE_MIMES:
        raise ValidationError(
            f"The image must be JPEG, PNG, BMP or WEBP (got {image.mime}).", subject=Input.IMAGE
        )
    if len(image.data) > model.image.max_bytes:
        raise ValidationError(
            f"The image is {_mb(len(image.data))}; {model.id} accepts at most "
            f"{_mb(model.image.max_bytes)}.",
            subject=Input.IMAGE,
        )


def _check_text(request: TaskRequest, model: Model) -> None:
    if request.prompt is not None and len(request.prompt) > model.prompt_max:
        raise ValidationError(
            f"The prompt is {len(request.prompt)} characters; {model.id} reads at most "
            f"{model.prompt_max}. Shorten it.",
            subject=Input.PROMPT,
        )
    negative = request.negative_prompt
    if negative is not None and len(negative) > model.negative_prompt_max:
        raise ValidationError(
            f"The negative prompt is {len(negative)} characters; the limit is "
            f"{model.negative_prompt_max}.",
            subject=Input.NEGATIVE_PROMPT,
        )


def _check_audio(request: TaskRequest, model: Model, region: Region) -> None:
    if request.sound is False and model.audio is AudioMode.ALWAYS:
        raise ValidationError(
            f"{model.id} always makes videos with sound; pick wan2.6-i2v-flash for a silent one."
        )
    has_audio = request.audio is not None or request.audio_url is not None
    if not has_audio:
        return
    if not model.custom_audio:
        raise ValidationError(
            f"{model.id} cannot use an audio file; pick a wan2.5, wan2.6 or wan2.7 model.",
            subject=Input.AUDIO,
        )
    if request.audio is not None and request.audio_url is not None:
        raise ValidationError("Give either an audio file or an audio URL, not both.")
    if request.sound is False and model.audio is AudioMode.OPTIONAL:
        raise ValidationError(
            "A silent video cannot use an audio file; drop the audio or the silent option.",
            subject=Input.AUDIO,
        )
    if request.audio is not None and region is not Region.BEIJING:
        # the temporary upload (reference §11) exists only in Beijing
        raise ValidationError(
            "Your own audio file only works in the China (Beijing) region, where DashScope "
            f"keeps uploaded files; this bot uses {region.value}. Leave out the audio file.",
            subject=Input.AUDIO,
        )
    if request.audio is not None:
        if request.audio.mime.lower() not in AUDIO_MIMES:
            raise ValidationError(
                f"The audio must be WAV or MP3 (got {request.audio.mime}).", subject=Input.AUDIO
            )
        if len(request.audio.data) > AUDIO_LIMITS.max_bytes:
            raise ValidationError(
                f"The audio file is {_mb(len(request.audio.data))}; the limit is "
                f"{_mb(AUDIO_LIMITS.max_bytes)}.",
                subject=Input.AUDIO,
            )
    elif request.audio_url is not None and not request.audio_url.startswith(
        ("https://", "http://", "oss://")
    ):
        raise ValidationError("The audio URL must start with https://.", subject=Input.AUDIO)


def _check_template(request: TaskRequest, model: Model) -> None:
    if request.template is None:
        return
    if request.template not in EFFECTS:
        raise ValidationError(f"Unknown effect {request.template!r}.")
    if request.template not in model.effects:
        raise ValidationError(
            f"{model.id} does not offer the effect {request.template!r}; "
            "effects work with wanx2.1-i2v-plus (all) and wanx2.1-i2v-turbo (some)."
        )
