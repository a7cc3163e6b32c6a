"""Wan 3.0 (``wan3.0-video``, ``wan3.0-video-prime``) on the video-generation path (§5.5).

Prompt and/or ``media[]``; ``first_frame``/``last_frame`` are mutually exclusive with the
``reference_*``/``file``/``link`` types. The documented illegal-combination error is a FAILED
task, not an HTTP 400 (``EmulatorConfig.wan30_media_errors``).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from emulator._errors import bad_param
from emulator._media import ImageInfo
from emulator._params import (
    Context,
    Resolved,
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
from emulator._rules import (
    WAN30_RATIOS,
    image_limits,
    nearest_ratio,
    output_size,
    produces_audio,
    ratio_size,
)
from emulator._spec import TaskSpec

log = logging.getLogger(__name__)

MAX_COUNT = {
    "first_frame": 1,
    "last_frame": 1,
    "reference_image": 10,
    "reference_video": 5,
    "reference_audio": 5,
    "file": 1,
    "link": 1,
}
FRAME_TYPES = frozenset({"first_frame", "last_frame"})
EXCLUSIVE = (
    "The two modes are mutually exclusive. Do not pass reference_xx and first_frame/last_frame "
    "at the same time."
)
REFERENCE_TOTAL_SECONDS = 15.0
MAX_TOTAL_SECONDS = 30


def media_problem(items: list[tuple[str, object]], prompt_extend: bool) -> str | None:
    counts = Counter(kind for kind, _ in items)
    for kind in counts:
        if kind not in MAX_COUNT:
            return f"unsupported media type {kind!r}; wan3.0 accepts {tuple(MAX_COUNT)}."
    if set(counts) & FRAME_TYPES and set(counts) - FRAME_TYPES:
        return EXCLUSIVE
    for kind, count in counts.items():
        if count > MAX_COUNT[kind]:
            return f"media type {kind!r} may appear at most {MAX_COUNT[kind]} times."
    if counts["file"] and counts["link"]:
        return "Do not pass file and link at the same time."
    if (counts["file"] or counts["link"]) and not prompt_extend:
        return "prompt_extend must be true when file or link is provided."
    return None


def _items(media: object) -> list[tuple[str, object]]:
    if media is None:
        return []
    if not isinstance(media, list):
        raise bad_param("media", "input.media must be a list of {type, url} items.")
    return [
        (str(item.get("type")) if isinstance(item, dict) else repr(item), _url(item))
        for item in media
    ]


def _url(item: object) -> object:
    return item.get("url") if isinstance(item, dict) else None


async def validate(inp: dict[str, Any], params: dict[str, Any], ctx: Context) -> TaskSpec:
    rule, config = ctx.rule, ctx.config
    prompt = text(inp, "prompt", rule.prompt_max)
    items = _items(inp.get("media"))
    if not prompt and not items:
        raise bad_param("prompt", "wan3.0 needs a prompt, media, or both.")
    prompt_extend = flag(params, "prompt_extend", default=True)
    problem = media_problem(items, prompt_extend)
    deferred = None if problem is None else input_error(problem, config.wan30_media_errors)
    if deferred is not None:
        items = []  # the task will FAIL on its input: nothing is inspected
    res = resolution(params, ctx)
    ratio = _ratio(params)
    audio_param = params.get("audio")
    if audio_param is not None and not isinstance(audio_param, bool):
        raise bad_param("audio", "audio must be a boolean.")

    resolved: dict[str, list[Resolved]] = {}
    for kind, url in items:
        if kind == "link":
            continue  # a public web page the model reads; nothing to inspect here
        what = {"reference_video": "video", "reference_audio": "audio", "file": "file"}
        resolved.setdefault(kind, []).append(
            ctx.resolve(url, f"media.{kind}", what.get(kind, "image"))
        )
    limits = image_limits(rule, config.strict_2025_images)
    infos: dict[str, ImageInfo | None] = {}
    for kind in ("first_frame", "last_frame", "reference_image"):
        for res_item in resolved.get(kind, []):
            infos.setdefault(kind, await probe_image(res_item, limits, kind))
    video_seconds = 0.0
    for clip in resolved.get("reference_video", []):
        info = await probe_video(clip, 1.0, REFERENCE_TOTAL_SECONDS)
        video_seconds += info.seconds if info else 0.0
    audio_seconds = 0.0
    for sound in resolved.get("reference_audio", []):
        audio_seconds += await probe_audio(sound, 1.0) or 0.0
    if max(video_seconds, audio_seconds) > REFERENCE_TOTAL_SECONDS:
        raise bad_param("media", "reference videos and reference audios may total 15 s each.")

    total = _duration(params, ctx, video_seconds)
    source = infos.get("first_frame") or infos.get("reference_image")
    label, (out_w, out_h) = _output(ratio, source, res, config.wan30_adaptive_snaps)
    first = next(iter(resolved.get("first_frame") or resolved.get("reference_image") or []), None)
    last = next(iter(resolved.get("last_frame", [])), None)
    return TaskSpec(
        model=rule.model_id,
        rule=rule,
        prompt=prompt,
        negative_prompt=negative_prompt(inp),
        resolution=res,
        duration=total,
        has_audio=produces_audio(rule, audio_param),
        audio_param=audio_param,
        seed=seed(params, allow_minus_one=True),
        prompt_extend=prompt_extend,
        watermark=flag(params, "watermark", default=False),
        template=None,
        shot_type=None,
        image=first.data if first else None,
        audio=None,
        width=out_w,
        height=out_h,
        region=ctx.region,
        media_types=tuple(sorted({kind for kind, _ in items})),
        has_last_frame=last is not None,
        last_image=last.data if last else None,
        last_label=last.url if last else "",
        ratio=label,
        input_video_seconds=video_seconds,
        deferred_error=deferred,
    )


def _ratio(params: dict[str, Any]) -> str:
    value = params.get("ratio", "adaptive")
    if value != "adaptive" and value not in WAN30_RATIOS:
        raise bad_param(
            "ratio", f"ratio {value!r} is not supported; use adaptive or {', '.join(WAN30_RATIOS)}."
        )
    return str(value)


def _duration(params: dict[str, Any], ctx: Context, video_seconds: float) -> int:
    value = params.get("duration")
    if value == -1 and not isinstance(value, bool):
        return ctx.config.wan30_smart_duration  # "smart duration": the model picks
    total = duration(params, ctx)
    if video_seconds and total + video_seconds > MAX_TOTAL_SECONDS:
        raise bad_param(
            "duration",
            f"input video ({video_seconds:.2f}s) plus duration {total} exceeds "
            f"{MAX_TOTAL_SECONDS} s.",
        )
    return total


def _output(
    ratio: str, source: ImageInfo | None, res: str, snaps: bool
) -> tuple[str, tuple[int, int]]:
    """(ratio label, output size): explicit ratio, else the first image's, else 16:9."""
    if ratio != "adaptive":
        return ratio, output_size(*ratio_size(ratio), res)
    if source is None:
        return "16:9", output_size(16, 9, res)
    label = nearest_ratio(source.width, source.height)
    if snaps:
        return label, output_size(*ratio_size(label), res)
    return label, output_size(source.width, source.height, res)
