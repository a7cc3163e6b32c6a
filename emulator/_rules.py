"""The emulator's own copy of the Wan image-to-video model rules (reference §5, §6, §10, §13).

Deliberately independent of core/ and providers/: the emulator is the judge of the bot, so it
must not share the bot's (possibly wrong) understanding of the rules.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Generation = Literal["2.1", "2.2", "2.5", "2.6", "2.7"]
AudioMode = Literal["never", "always", "optional"]

BJ = "cn-beijing"
SG = "ap-southeast-1"
US = "us-east-1"
DE = "eu-central-1"

# Target pixel areas per tier (§6.5); 480P from the t2v 832*480 size.
TIER_AREA: dict[str, int] = {"480P": 832 * 480, "720P": 1280 * 720, "1080P": 1920 * 1080}
TIER_SR: dict[str, int] = {"480P": 480, "720P": 720, "1080P": 1080}

_COMMON_TEMPLATES = frozenset(
    {
        "squish", "rotation", "poke", "inflate", "dissolve",
        "carousel", "singleheart",
        "flying", "rose", "crystalrose",
        "hug", "frenchkiss", "coupleheart",
    }
)  # fmt: skip
_PLUS_ONLY_TEMPLATES = frozenset(
    {
        "melt", "icecream",
        "dance1", "dance2", "dance3", "dance4", "dance5",
        "mermaid", "graduation", "dragon", "money", "jellyfish", "pupil",
    }
)  # fmt: skip
PLUS_TEMPLATES = _COMMON_TEMPLATES | _PLUS_ONLY_TEMPLATES
TURBO_TEMPLATES = _COMMON_TEMPLATES
ALL_TEMPLATES = PLUS_TEMPLATES | TURBO_TEMPLATES

_TWO_TO_FIFTEEN = frozenset(range(2, 16))


@dataclass(frozen=True)
class ModelRule:
    model_id: str
    generation: Generation
    regions: frozenset[str]
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: frozenset[int]
    audio: AudioMode
    prompt_max: int
    image_max_mb: int
    submit_rps: int
    concurrency: int
    median_seconds: float
    templates: frozenset[str] = frozenset()
    media_protocol: bool = False
    # Region-specific duration sets (e.g. wan2.6-i2v "global" in US/DE: 5/10/15 only).
    region_durations: tuple[tuple[str, frozenset[int]], ...] = ()
    default_duration: int = 5
    singapore_alias_of: str | None = None

    def durations_for(self, region: str) -> frozenset[int]:
        if region == "any":
            allowed = set(self.durations)
            for _, extra in self.region_durations:
                allowed |= extra
            return frozenset(allowed)
        for name, allowed_here in self.region_durations:
            if name == region:
                return allowed_here
        return self.durations

    @property
    def has_audio_by_default(self) -> bool:
        return self.audio != "never"


def _rule(**kwargs: object) -> ModelRule:
    return ModelRule(**kwargs)  # type: ignore[arg-type]  # table rows are checked by tests


_FAST = {"submit_rps": 5, "concurrency": 5}
_SLOW = {"submit_rps": 2, "concurrency": 2}

_RULES: tuple[ModelRule, ...] = (
    _rule(model_id="wan2.7-i2v", generation="2.7", regions=frozenset({BJ, SG}),
          resolutions=("720P", "1080P"), default_resolution="1080P", durations=_TWO_TO_FIFTEEN,
          audio="always", prompt_max=1500, image_max_mb=20, median_seconds=180.0,
          media_protocol=True, **_FAST),
    _rule(model_id="wan2.7-i2v-2026-04-25", generation="2.7", regions=frozenset({BJ, SG}),
          resolutions=("720P", "1080P"), default_resolution="1080P", durations=_TWO_TO_FIFTEEN,
          audio="always", prompt_max=1500, image_max_mb=20, median_seconds=180.0,
          media_protocol=True, **_FAST),
    _rule(model_id="wan2.6-i2v-flash", generation="2.6", regions=frozenset({BJ, SG}),
          resolutions=("720P", "1080P"), default_resolution="1080P", durations=_TWO_TO_FIFTEEN,
          audio="optional", prompt_max=1500, image_max_mb=20, median_seconds=90.0, **_FAST),
    _rule(model_id="wan2.6-i2v", generation="2.6", regions=frozenset({BJ, SG, US, DE}),
          resolutions=("720P", "1080P"), default_resolution="1080P", durations=_TWO_TO_FIFTEEN,
          region_durations=((US, frozenset({5, 10, 15})), (DE, frozenset({5, 10, 15}))),
          audio="always", prompt_max=1500, image_max_mb=20, median_seconds=180.0, **_FAST),
    _rule(model_id="wan2.6-i2v-us", generation="2.6", regions=frozenset({US}),
          resolutions=("720P", "1080P"), default_resolution="1080P",
          durations=frozenset({5, 10, 15}), audio="always", prompt_max=1500, image_max_mb=20,
          median_seconds=180.0, **_FAST),
    _rule(model_id="wan2.5-i2v-preview", generation="2.5", regions=frozenset({BJ, SG}),
          resolutions=("480P", "720P", "1080P"), default_resolution="1080P",
          durations=frozenset({5, 10}), audio="always", prompt_max=1500, image_max_mb=20,
          median_seconds=150.0, **_FAST),
    _rule(model_id="wan2.2-i2v-flash", generation="2.2", regions=frozenset({BJ, SG}),
          resolutions=("480P", "720P", "1080P"), default_resolution="720P",
          durations=frozenset({5}), audio="never", prompt_max=800, image_max_mb=10,
          median_seconds=60.0, **_SLOW),
    _rule(model_id="wan2.2-i2v-plus", generation="2.2", regions=frozenset({BJ, SG}),
          resolutions=("480P", "1080P"), default_resolution="1080P", durations=frozenset({5}),
          audio="never", prompt_max=800, image_max_mb=10, median_seconds=180.0, **_SLOW),
    _rule(model_id="wanx2.1-i2v-plus", generation="2.1", regions=frozenset({BJ}),
          resolutions=("720P",), default_resolution="720P", durations=frozenset({5}),
          audio="never", prompt_max=800, image_max_mb=10, median_seconds=240.0,
          templates=PLUS_TEMPLATES, **_SLOW),
    _rule(model_id="wanx2.1-i2v-turbo", generation="2.1", regions=frozenset({BJ}),
          resolutions=("480P", "720P"), default_resolution="720P", durations=frozenset({3, 4, 5}),
          audio="never", prompt_max=800, image_max_mb=10, median_seconds=90.0,
          templates=TURBO_TEMPLATES, **_SLOW),
    _rule(model_id="wan2.1-i2v-plus", generation="2.1", regions=frozenset({SG}),
          resolutions=("720P",), default_resolution="720P", durations=frozenset({5}),
          audio="never", prompt_max=800, image_max_mb=10, median_seconds=240.0,
          templates=PLUS_TEMPLATES, singapore_alias_of="wanx2.1-i2v-plus", **_SLOW),
    _rule(model_id="wan2.1-i2v-turbo", generation="2.1", regions=frozenset({SG}),
          resolutions=("480P", "720P"), default_resolution="720P", durations=frozenset({3, 4, 5}),
          audio="never", prompt_max=800, image_max_mb=10, median_seconds=90.0,
          templates=TURBO_TEMPLATES, singapore_alias_of="wanx2.1-i2v-turbo", **_SLOW),
)  # fmt: skip

MODELS: dict[str, ModelRule] = {rule.model_id: rule for rule in _RULES}

# Models that exist but are served on the first+last-frame endpoint only.
KF2V_MODELS = frozenset({"wanx2.1-kf2v-plus", "wan2.1-kf2v-plus", "wan2.2-kf2v-flash"})

NEGATIVE_PROMPT_MAX = 500
SEED_MAX = 2147483647
AUDIO_MAX_BYTES = 15 * 1024 * 1024
AUDIO_MIN_SECONDS = 3.0
AUDIO_MAX_SECONDS = 30.0
MEDIA_TYPES = frozenset({"first_frame", "last_frame", "driving_audio", "first_clip"})


def lookup(model_id: str, region: str) -> ModelRule | None:
    """The rule for ``model_id`` if it exists in ``region`` ("any" accepts every region's ids)."""
    rule = MODELS.get(model_id)
    if rule is None:
        return None
    if region != "any" and region not in rule.regions:
        return None
    return rule


def image_limits(rule: ModelRule, strict_2025: bool) -> tuple[int, int, int]:
    """(min side px, max side px, max bytes) for input images (§6.1)."""
    if strict_2025:
        return 360, 2000, 10 * 1024 * 1024
    return 240, 8000, rule.image_max_mb * 1024 * 1024


def output_size(width: int, height: int, resolution: str) -> tuple[int, int]:
    """Output frame size for an input of ``width``×``height`` (§6.5 heuristic).

    >>> output_size(750, 1000, "720P")
    (816, 1104)
    """
    area = TIER_AREA[resolution]
    ratio = width / height
    out_w = math.floor(math.sqrt(area * ratio) / 16) * 16
    out_h = math.floor(math.sqrt(area / ratio) / 16) * 16
    return max(out_w, 16), max(out_h, 16)


def produces_audio(rule: ModelRule, audio_param: object) -> bool:
    """Whether the output has a sound track (§4.3 ``audio``, §5 audio column)."""
    if rule.audio == "never":
        return False
    if rule.audio == "optional":
        return audio_param is not False
    return True
