"""Parameter parsing and input-URL resolution shared by every model family (§4, §6.2)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from emulator._config import EmulatorConfig, ErrorStage
from emulator._errors import ApiError, bad_param, invalid
from emulator._media import (
    BAD_URL_MESSAGE,
    ImageInfo,
    UploadedFile,
    VideoInfo,
    check_audio,
    check_image,
    check_video,
    decode_data_uri,
)
from emulator._regions import durations_for, resolutions_for
from emulator._rules import NEGATIVE_PROMPT_MAX, SEED_MAX, ImageLimits, ModelRule

log = logging.getLogger(__name__)

OSS_UNRESOLVED = "The media format is not supported or incorrect for the data inspection."
OSS_MISSING = "Unable to download the media resource during the data inspection process."

UploadLookup = Callable[[str], UploadedFile | None]


@dataclass(frozen=True)
class Resolved:
    url: str
    data: bytes | None  # None = remote http(s) content the emulator never fetches


@dataclass(frozen=True)
class Context:
    """One create request's surroundings: rule, region, config, uploads, clock."""

    rule: ModelRule
    region: str
    config: EmulatorConfig
    oss_resolve: bool
    uploads: UploadLookup
    now: float

    def resolve(self, url: object, name: str, kind: str) -> Resolved:
        """``data:`` (images only), ``oss://`` (needs the resolve header) or http(s) (§6.2)."""
        if not isinstance(url, str) or not url:
            raise bad_param(name, "")
        if url.startswith("data:"):
            if kind != "image":
                raise invalid(BAD_URL_MESSAGE)
            return Resolved(url, decode_data_uri(url))
        if url.startswith("oss://"):
            if not self.oss_resolve:
                raise ApiError(400, "InvalidParameter.DataInspection", OSS_UNRESOLVED)
            found = self.uploads(url.removeprefix("oss://"))
            if found is None or found.expires_at <= self.now or found.model != self.rule.model_id:
                raise ApiError(400, "InvalidParameter.DataInspection", OSS_MISSING)
            return Resolved(url, found.data)
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") and parsed.netloc:
            return Resolved(url, None)
        raise invalid(BAD_URL_MESSAGE)


async def probe_image(res: Resolved | None, limits: ImageLimits, name: str) -> ImageInfo | None:
    if res is None or res.data is None:
        return None
    return await asyncio.to_thread(check_image, res.data, limits, name)


async def probe_audio(res: Resolved | None, min_seconds: float) -> float | None:
    if res is None or res.data is None:
        return None
    return await asyncio.to_thread(check_audio, res.data, min_seconds)


async def probe_video(res: Resolved | None, min_s: float, max_s: float) -> VideoInfo | None:
    if res is None or res.data is None:
        return None
    return await asyncio.to_thread(check_video, res.data, min_s, max_s)


def input_and_params(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
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
    return inp, params


def text(inp: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = inp.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_param(name, f"{name} must be a string.")
    return value[:limit]  # excess is silently truncated (§4.2)


def negative_prompt(inp: Mapping[str, Any]) -> str | None:
    return text(inp, "negative_prompt", NEGATIVE_PROMPT_MAX)


def resolution(params: Mapping[str, Any], ctx: Context) -> str:
    value = params.get("resolution")
    rule = ctx.rule
    if value is None:
        return rule.default_resolution
    allowed = resolutions_for(rule, ctx.region, ctx.config)
    if not isinstance(value, str) or value.upper() not in allowed:
        raise bad_param(
            "resolution",
            f"resolution {value!r} is not supported by model {rule.model_id}"
            f"{_where(ctx.region)}; supported: {', '.join(allowed)}.",
        )
    return value.upper()


def duration(params: Mapping[str, Any], ctx: Context) -> int:
    value = params.get("duration")
    rule = ctx.rule
    if value is None:
        return rule.default_duration
    allowed = durations_for(rule, ctx.region, ctx.config)
    ok_type = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok_type or float(value) != int(value) or int(value) not in allowed:
        raise bad_param(
            "duration",
            f"duration {value!r} is not supported by model {rule.model_id}{_where(ctx.region)}; "
            f"supported: {_ranges(sorted(allowed))}.",
        )
    return int(value)


def seed(params: Mapping[str, Any], allow_minus_one: bool = False) -> int | None:
    value = params.get("seed")
    if value is None or (allow_minus_one and value == -1 and not isinstance(value, bool)):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise bad_param("seed", f"seed must be an integer in [0, {SEED_MAX}].")
    return value


def flag(params: Mapping[str, Any], name: str, *, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_param(name, f"{name} must be a boolean.")
    return value


def audio_flag(params: Mapping[str, Any], rule: ModelRule, config: EmulatorConfig) -> bool | None:
    value = params.get("audio")
    if value is None:
        return None
    if not isinstance(value, bool):
        raise bad_param("audio", "audio must be a boolean.")
    if rule.audio != "optional":
        if config.strict_audio_param:
            raise bad_param("audio", f"audio is not supported by model {rule.model_id}.")
        return None  # [uncertain] ignored leniently on models without the switch
    return value


def check_template(inp: Mapping[str, Any], rule: ModelRule, config: EmulatorConfig) -> str | None:
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


def input_error(message: str, stage: ErrorStage) -> tuple[str, str]:
    """Raise at create, or return the (code, message) a FAILED task will carry."""
    if stage == "create":
        raise bad_param("media", message)
    return "InvalidParameter", message


def _where(region: str) -> str:
    return "" if region == "any" else f" in region {region}"


def _ranges(values: list[int]) -> str:
    """``2-15`` for a run of consecutive integers, else a comma list."""
    if len(values) > 3 and values[-1] - values[0] == len(values) - 1:
        return f"{values[0]}-{values[-1]}"
    return ", ".join(str(v) for v in values)
