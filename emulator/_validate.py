"""Create-request validation: model resolution per route and region, then the family's rules.

Legacy first-frame i2v (§4, §5, §6, §13) lives here; wan2.7 ``media[]`` in ``_wan27``, the
first+last-frame models in ``_kf2v`` and Wan 3.0 in ``_wan30``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from emulator import _kf2v, _wan27, _wan30
from emulator._config import EmulatorConfig
from emulator._errors import ApiError, bad_param, invalid
from emulator._params import (
    Context,
    UploadLookup,
    audio_flag,
    check_template,
    duration,
    flag,
    input_and_params,
    negative_prompt,
    probe_audio,
    probe_image,
    resolution,
    seed,
    text,
)
from emulator._regions import lookup
from emulator._rules import (
    AUDIO_MIN_SECONDS,
    ModelRule,
    image_limits,
    output_size,
    produces_audio,
)
from emulator._spec import TaskSpec

log = logging.getLogger(__name__)

URL_ERROR = "url error, please check url!"


def resolve_model(
    body: Mapping[str, Any], region: str, path_task: str, config: EmulatorConfig
) -> ModelRule:
    """The model's rule, if it exists in ``region`` and answers on this path (§2, §1.1)."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(
            400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
        )
    rule = lookup(model, region, config)
    if rule is not None:
        if rule.path_task != path_task:
            raise invalid(URL_ERROR)  # what old SDKs see for a model on the wrong path (§1)
        return rule
    if config.unknown_model_404:
        raise ApiError(404, "ModelNotFound", "Model can not be found.")
    raise invalid("Model not exist.")


async def validate_create(
    body: Mapping[str, Any],
    rule: ModelRule,
    config: EmulatorConfig,
    *,
    region: str = "any",
    oss_resolve: bool,
    uploads: UploadLookup,
    now: float,
) -> TaskSpec:
    ctx = Context(rule, region, config, oss_resolve, uploads, now)
    inp, params = input_and_params(body)
    if rule.family == "wan27":
        return await _wan27.validate(inp, params, ctx)
    if rule.family == "kf2v":
        return await _kf2v.validate(inp, params, ctx)
    if rule.family == "wan30":
        return await _wan30.validate(inp, params, ctx)
    return await _legacy(inp, params, ctx)


async def _legacy(inp: dict[str, Any], params: dict[str, Any], ctx: Context) -> TaskSpec:
    rule, config = ctx.rule, ctx.config
    prompt = text(inp, "prompt", rule.prompt_max)
    res = resolution(params, ctx)
    audio_param = audio_flag(params, rule, config)
    shot_type = _shot_type(params)
    template = check_template(inp, rule, config)
    image = ctx.resolve(inp.get("img_url"), "img_url", "image")
    audio = None
    audio_url = inp.get("audio_url")
    if audio_url not in (None, ""):
        if rule.generation not in ("2.5", "2.6"):
            raise bad_param("audio_url", f"audio_url is not supported by model {rule.model_id}.")
        audio = ctx.resolve(audio_url, "audio_url", "audio")
    limits = image_limits(rule, config.strict_2025_images)
    info = await probe_image(image, limits, "image")
    await probe_audio(audio, AUDIO_MIN_SECONDS)
    width, height = (info.width, info.height) if info else (1280, 720)  # remote: assume 16:9
    out_w, out_h = output_size(width, height, res)
    return TaskSpec(
        model=rule.model_id,
        rule=rule,
        prompt=prompt,
        negative_prompt=negative_prompt(inp),
        resolution=res,
        duration=duration(params, ctx),
        has_audio=produces_audio(rule, audio_param),
        audio_param=audio_param,
        seed=seed(params),
        prompt_extend=flag(params, "prompt_extend", default=True),
        watermark=flag(params, "watermark", default=False),
        template=template,
        shot_type=shot_type if rule.generation == "2.6" else None,
        image=image.data,
        audio=audio.data if audio is not None else None,
        width=out_w,
        height=out_h,
        region=ctx.region,
    )


def _shot_type(params: Mapping[str, Any]) -> str | None:
    value = params.get("shot_type")
    if value is None:
        return None
    if value not in ("single", "multi"):
        raise bad_param("shot_type", "shot_type must be 'single' or 'multi'.")
    return str(value)
