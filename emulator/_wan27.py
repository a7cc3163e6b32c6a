"""wan2.7-i2v ``input.media[]`` (§5.3): legal combinations, per-type limits, first_clip arithmetic.

The output of a continuation *includes* the clip: ``duration`` is the total length (and what is
billed), so the newly generated part is ``duration − clip length``.
"""

from __future__ import annotations

import logging
from typing import Any

from emulator._errors import bad_param
from emulator._media import CLIP_MAX_SECONDS, CLIP_MIN_SECONDS
from emulator._params import (
    Context,
    Resolved,
    check_template,
    duration,
    flag,
    input_error,
    negative_prompt,
    probe_audio,
    probe_image,
    probe_video,
    resolution,
    seed,
    text,
)
from emulator._rules import image_limits, output_size
from emulator._spec import TaskSpec

log = logging.getLogger(__name__)

MEDIA_TYPES = ("first_frame", "last_frame", "driving_audio", "first_clip")
# Exactly these sets ("仅支持以下特定的素材组合，非法组合将报错").
LEGAL_MEDIA = (
    frozenset({"first_frame"}),
    frozenset({"first_frame", "driving_audio"}),
    frozenset({"first_frame", "last_frame"}),
    frozenset({"first_frame", "last_frame", "driving_audio"}),
    frozenset({"first_clip"}),
    frozenset({"first_clip", "last_frame"}),
)
_LEGAL_TEXT = "; ".join("+".join(t for t in MEDIA_TYPES if t in combo) for combo in LEGAL_MEDIA)
DRIVING_AUDIO_MIN_SECONDS = 2.0
# Keys of the legacy protocol (and of other models) that wan2.7 does not document (§5.3).
LEGACY_INPUT_KEYS = ("img_url", "audio_url")
LEGACY_PARAM_KEYS = ("audio", "shot_type", "ratio", "size")


def parse_media(media: list[Any]) -> tuple[dict[str, object], str | None]:
    """``{type: url}`` of the items, and what is illegal about them (None when legal)."""
    by_type: dict[str, object] = {}
    for item in media:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in MEDIA_TYPES:
            return by_type, f"unsupported media type {kind!r}; wan2.7-i2v accepts {MEDIA_TYPES}."
        if kind in by_type:
            return by_type, f"media type {kind!r} may appear only once."
        by_type[str(kind)] = item.get("url")
    if frozenset(by_type) not in LEGAL_MEDIA:
        given = "+".join(t for t in MEDIA_TYPES if t in by_type) or "nothing"
        return by_type, f"illegal media combination {given}; legal: {_LEGAL_TEXT}."
    return by_type, None


async def validate(inp: dict[str, Any], params: dict[str, Any], ctx: Context) -> TaskSpec:
    rule, config = ctx.rule, ctx.config
    if config.wan27_legacy_keys == "reject":
        for key, where in [(k, inp) for k in LEGACY_INPUT_KEYS] + [
            (k, params) for k in LEGACY_PARAM_KEYS
        ]:
            if key in where:
                raise bad_param(key, f"{key} is not supported by model {rule.model_id}.")
    check_template(inp, rule, config)  # no effects on wan2.7 (§5.2)
    media = inp.get("media")
    if not isinstance(media, list):
        raise bad_param("media", "input.media is required: a list of {type, url} items.")
    by_type, problem = parse_media(media)
    deferred = None if problem is None else input_error(problem, config.wan27_media_errors)
    if deferred is not None:
        by_type = {}  # the task will FAIL on its input: nothing is inspected
    res = resolution(params, ctx)
    total = duration(params, ctx)

    def get(kind: str, what: str) -> Resolved | None:
        if kind not in by_type:
            return None
        return ctx.resolve(by_type[kind], f"media.{kind}", what)

    first, last = get("first_frame", "image"), get("last_frame", "image")
    clip, audio = get("first_clip", "video"), get("driving_audio", "audio")
    limits = image_limits(rule, config.strict_2025_images)
    first_info = await probe_image(first, limits, "first_frame")
    await probe_image(last, limits, "last_frame")
    clip_info = await probe_video(clip, CLIP_MIN_SECONDS, CLIP_MAX_SECONDS)
    await probe_audio(audio, DRIVING_AUDIO_MIN_SECONDS)
    clip_seconds = 0.0
    if clip is not None:
        clip_seconds = clip_info.seconds if clip_info else config.remote_clip_seconds
        if total <= clip_seconds and config.reject_duration_within_clip:
            raise bad_param(
                "duration",
                f"duration {total} must be longer than the first_clip ({clip_seconds:.2f}s): "
                "it is the total length of the output, the clip included.",
            )
    source = clip_info or first_info
    width, height = (source.width, source.height) if source else (1280, 720)
    out_w, out_h = output_size(width, height, res)
    return TaskSpec(
        model=rule.model_id,
        rule=rule,
        prompt=text(inp, "prompt", rule.prompt_max),
        negative_prompt=negative_prompt(inp),
        resolution=res,
        duration=total,
        has_audio=True,  # no switch: without driving_audio the model adds its own sound
        audio_param=None,
        seed=seed(params),
        prompt_extend=flag(params, "prompt_extend", default=True),
        watermark=flag(params, "watermark", default=False),
        template=None,
        shot_type=None,
        image=first.data if first else None,
        audio=audio.data if audio else None,
        width=out_w,
        height=out_h,
        region=ctx.region,
        media_types=tuple(t for t in MEDIA_TYPES if t in by_type),
        has_last_frame=last is not None,
        last_image=last.data if last else None,
        last_label=last.url if last else "",
        clip=clip.data if clip else None,
        clip_seconds=clip_seconds,
        deferred_error=deferred,
    )
