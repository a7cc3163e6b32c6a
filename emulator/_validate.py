"""Create-request validation (§4, §5, §6, §13): JSON body in, ``TaskSpec`` or ApiError out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from emulator._config import EmulatorConfig
from emulator._errors import ApiError, bad_param, invalid
from emulator._media import (
    BAD_URL_MESSAGE,
    UploadedFile,
    check_audio,
    check_image,
    decode_data_uri,
)
from emulator._rules import (
    KF2V_MODELS,
    NEGATIVE_PROMPT_MAX,
    SEED_MAX,
    ModelRule,
    image_limits,
    lookup,
    output_size,
    produces_audio,
)

log = logging.getLogger(__name__)

OSS_UNRESOLVED = "The media format is not supported or incorrect for the data inspection."
OSS_MISSING = "Unable to download the media resource during the data inspection process."

_LEGAL_MEDIA = (
    frozenset({"first_frame"}),
    frozenset({"first_frame", "driving_audio"}),
    frozenset({"first_frame", "last_frame"}),
    frozenset({"first_frame", "last_frame", "driving_audio"}),  # [uncertain] accepted leniently
    frozenset({"first_clip"}),
    frozenset({"first_clip", "last_frame"}),
)


@dataclass(frozen=True)
class TaskSpec:
    """A validated create request: everything the task store and the renderer need."""

    model: str
    rule: ModelRule
    prompt: str | None
    negative_prompt: str | None
    resolution: str
    duration: int
    has_audio: bool
    audio_param: bool | None
    seed: int | None
    prompt_extend: bool
    watermark: bool
    template: str | None
    shot_type: str | None
    image: bytes | None
    audio: bytes | None
    width: int
    height: int


@dataclass(frozen=True)
class _Resolved:
    data: bytes | None  # None = remote http(s) content the emulator never fetches


UploadLookup = Callable[[str], UploadedFile | None]


def resolve_model(body: Mapping[str, Any], config: EmulatorConfig) -> ModelRule:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(
            400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
        )
    rule = lookup(model, config.region)
    if rule is not None:
        return rule
    if model in KF2V_MODELS:
        raise invalid("url error, please check url!")
    if config.unknown_model_404:
        raise ApiError(404, "ModelNotFound", "Model can not be found.")
    raise invalid("Model not exist.")


async def validate_create(
    body: Mapping[str, Any],
    rule: ModelRule,
    config: EmulatorConfig,
    *,
    oss_resolve: bool,
    uploads: UploadLookup,
    now: float,
) -> TaskSpec:
    inp = body.get("input")
    if not isinstance(inp, dict) or not inp:
        raise ApiError(
            400, "BadRequest.EmptyInput", "Required input parameter missing from request."
        )
    params = body.get("parameters")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise bad_param("parameters", "parameters must be a JSON object.")

    prompt = _text(inp, "prompt", rule.prompt_max)
    negative = _text(inp, "negative_prompt", NEGATIVE_PROMPT_MAX)
    resolution = _resolution(params, rule)
    duration = _duration(params, rule, config)
    seed = _seed(params)
    prompt_extend = _flag(params, "prompt_extend", default=True)
    watermark = _flag(params, "watermark", default=False)
    audio_param = _audio_param(params, rule, config)
    shot_type = _shot_type(params)
    template = _template(inp, rule, config)

    def resolve(url: object, name: str, kind: str) -> _Resolved:
        return _resolve_url(url, name, kind, rule, oss_resolve, uploads, now)

    audio_res: _Resolved | None = None
    if rule.media_protocol:
        image_res, audio_res = _media_inputs(inp, resolve)
    else:
        image_res = resolve(inp.get("img_url"), "img_url", "image")
        audio_url = inp.get("audio_url")
        if audio_url not in (None, ""):
            if rule.generation not in ("2.5", "2.6"):
                raise bad_param(
                    "audio_url", f"audio_url is not supported by model {rule.model_id}."
                )
            audio_res = resolve(audio_url, "audio_url", "audio")

    width, height = 1280, 720  # remote images are never fetched: assume 16:9
    if image_res is not None and image_res.data is not None:
        min_side, max_side, max_bytes = image_limits(rule, config.strict_2025_images)
        info = await asyncio.to_thread(check_image, image_res.data, min_side, max_side, max_bytes)
        width, height = info.width, info.height
    if audio_res is not None and audio_res.data is not None:
        await asyncio.to_thread(check_audio, audio_res.data)

    out_w, out_h = output_size(width, height, resolution)
    return TaskSpec(
        model=rule.model_id,
        rule=rule,
        prompt=prompt,
        negative_prompt=negative,
        resolution=resolution,
        duration=duration,
        has_audio=produces_audio(rule, audio_param),
        audio_param=audio_param,
        seed=seed,
        prompt_extend=prompt_extend,
        watermark=watermark,
        template=template,
        shot_type=shot_type if rule.generation == "2.6" else None,
        image=image_res.data if image_res is not None else None,
        audio=audio_res.data if audio_res is not None else None,
        width=out_w,
        height=out_h,
    )


def _text(inp: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = inp.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_param(name, f"{name} must be a string.")
    return value[:limit]  # excess is silently truncated (§4.2)


def _resolution(params: Mapping[str, Any], rule: ModelRule) -> str:
    value = params.get("resolution")
    if value is None:
        return rule.default_resolution
    if not isinstance(value, str) or value.upper() not in rule.resolutions:
        raise bad_param(
            "resolution",
            f"resolution {value!r} is not supported by model {rule.model_id}; "
            f"supported: {', '.join(rule.resolutions)}.",
        )
    return value.upper()


def _duration(params: Mapping[str, Any], rule: ModelRule, config: EmulatorConfig) -> int:
    value = params.get("duration")
    if value is None:
        return rule.default_duration
    allowed = rule.durations_for(config.region)
    ok_type = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok_type or float(value) != int(value) or int(value) not in allowed:
        raise bad_param(
            "duration",
            f"duration {value!r} is not supported by model {rule.model_id}; "
            f"supported: {', '.join(str(d) for d in sorted(allowed))}.",
        )
    return int(value)


def _seed(params: Mapping[str, Any]) -> int | None:
    value = params.get("seed")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise bad_param("seed", f"seed must be an integer in [0, {SEED_MAX}].")
    return value


def _flag(params: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_param(name, f"{name} must be a boolean.")
    return value


def _audio_param(params: Mapping[str, Any], rule: ModelRule, config: EmulatorConfig) -> bool | None:
    value = params.get("audio")
    if value is None:
        return None
    if not isinstance(value, bool):
        raise bad_param("audio", "audio must be a boolean.")
    if rule.audio != "optional":
        if config.strict_audio_param:
            raise bad_param("audio", f"audio is not supported by model {rule.model_id}.")
        return None  # [uncertain] ignored leniently on models other than wan2.6-i2v-flash
    return value


def _shot_type(params: Mapping[str, Any]) -> str | None:
    value = params.get("shot_type")
    if value is None:
        return None
    if value not in ("single", "multi"):
        raise bad_param("shot_type", "shot_type must be 'single' or 'multi'.")
    return str(value)


def _template(inp: Mapping[str, Any], rule: ModelRule, config: EmulatorConfig) -> str | None:
    value = inp.get("template")
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise bad_param("template", "template must be a string.")
    singapore_blocked = (
        rule.singapore_alias_of is not None and not config.templates_on_singapore_ids
    )
    if not rule.templates or singapore_blocked:
        raise bad_param("template", f"model {rule.model_id} does not support video effects.")
    if value not in rule.templates:
        raise bad_param(
            "template", f"template {value!r} is not supported by model {rule.model_id}."
        )
    return value


def _media_inputs(
    inp: Mapping[str, Any], resolve: Callable[[object, str, str], _Resolved]
) -> tuple[_Resolved | None, _Resolved | None]:
    media = inp.get("media")
    if not isinstance(media, list) or not media:
        raise bad_param("media", "input.media must be a non-empty list of {type, url} items.")
    by_type: dict[str, object] = {}
    for item in media:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in ("first_frame", "last_frame", "driving_audio", "first_clip"):
            raise bad_param("media", f"unsupported media type {kind!r}.")
        if kind in by_type:
            raise bad_param("media", f"media type {kind!r} may appear only once.")
        by_type[str(kind)] = item.get("url")
    if frozenset(by_type) not in _LEGAL_MEDIA:
        raise bad_param("media", f"illegal media combination: {', '.join(sorted(by_type))}.")
    image = None
    if "first_frame" in by_type:
        image = resolve(by_type["first_frame"], "media.first_frame", "image")
    if "last_frame" in by_type:
        resolve(by_type["last_frame"], "media.last_frame", "image")
    if "first_clip" in by_type:
        resolve(by_type["first_clip"], "media.first_clip", "video")
    audio = None
    if "driving_audio" in by_type:
        audio = resolve(by_type["driving_audio"], "media.driving_audio", "audio")
    return image, audio


def _resolve_url(
    url: object,
    name: str,
    kind: str,
    rule: ModelRule,
    oss_resolve: bool,
    uploads: UploadLookup,
    now: float,
) -> _Resolved:
    if not isinstance(url, str) or not url:
        raise bad_param(name, "")
    if url.startswith("data:"):
        if kind != "image":
            raise invalid(BAD_URL_MESSAGE)
        return _Resolved(decode_data_uri(url))
    if url.startswith("oss://"):
        if not oss_resolve:
            raise ApiError(400, "InvalidParameter.DataInspection", OSS_UNRESOLVED)
        uploaded = uploads(url.removeprefix("oss://"))
        if uploaded is None or uploaded.expires_at <= now or uploaded.model != rule.model_id:
            raise ApiError(400, "InvalidParameter.DataInspection", OSS_MISSING)
        return _Resolved(uploaded.data)
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return _Resolved(None)
    raise invalid(BAD_URL_MESSAGE)
