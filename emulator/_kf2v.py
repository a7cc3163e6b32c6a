"""First+last-frame models on ``/services/aigc/image2video/video-synthesis`` (§5.4, §13).

``wan2.2-kf2v-flash`` / ``wanx2.1-kf2v-plus`` (Singapore ``wan2.1-kf2v-plus``): body
``input.first_frame_url`` (required), ``last_frame_url``, ``template``; 5 s, silent.
"""

from __future__ import annotations

import logging
from typing import Any

from emulator._errors import bad_param
from emulator._params import (
    Context,
    check_template,
    duration,
    flag,
    negative_prompt,
    probe_image,
    resolution,
    seed,
    text,
)
from emulator._rules import image_limits, output_size
from emulator._spec import TaskSpec

log = logging.getLogger(__name__)


async def validate(inp: dict[str, Any], params: dict[str, Any], ctx: Context) -> TaskSpec:
    rule, config = ctx.rule, ctx.config
    template = check_template(inp, rule, config)
    res = resolution(params, ctx)
    total = duration(params, ctx)  # "fixed at 5 and cannot be changed"
    first = ctx.resolve(inp.get("first_frame_url"), "first_frame_url", "image")
    last = None
    last_url = inp.get("last_frame_url")
    if template is not None:
        pass  # with a template only the first frame counts; last_frame_url is ignored (§13)
    elif last_url not in (None, ""):
        last = ctx.resolve(last_url, "last_frame_url", "image")
    elif config.kf2v_require_last_frame:
        raise bad_param("last_frame_url", "last_frame_url is required unless a template is set.")
    limits = image_limits(rule, config.strict_2025_images, config.kf2v_2026_image_limits)
    info = await probe_image(first, limits, "first_frame_url")
    await probe_image(last, limits, "last_frame_url")
    width, height = (info.width, info.height) if info else (1280, 720)
    out_w, out_h = output_size(width, height, res)  # the first frame sets the aspect ratio
    return TaskSpec(
        model=rule.model_id,
        rule=rule,
        prompt=text(inp, "prompt", rule.prompt_max),
        negative_prompt=negative_prompt(inp),
        resolution=res,
        duration=total,
        has_audio=False,
        audio_param=None,
        seed=seed(params),
        prompt_extend=flag(params, "prompt_extend", default=True),
        watermark=flag(params, "watermark", default=False),
        template=template,
        shot_type=None,
        image=first.data,
        audio=None,
        width=out_w,
        height=out_h,
        region=ctx.region,
        has_last_frame=last is not None,
        last_image=last.data if last else None,
        last_label=last.url if last else "",
    )
