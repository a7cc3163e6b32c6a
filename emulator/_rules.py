"""The emulator's own copy of the Wan model rules (reference §5, §5.3–§5.5, §6, §10, §13).

Deliberately independent of core/ and providers/: the emulator is the judge of the bot, so it
must not share the bot's (possibly wrong) understanding of the rules. Region availability and
its [uncertain] points live in ``_regions``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Generation = Literal["2.1", "2.2", "2.5", "2.6", "2.7", "3.0"]
AudioMode = Literal["never", "always", "optional"]
# Wire protocol: legacy ``img_url`` i2v, wan2.7 ``media[]``, first+last-frame ``*-kf2v-*`` on its
# own path, and Wan 3.0 ``media[]`` with its own types and parameters.
Family = Literal["i2v", "wan27", "kf2v", "wan30"]

BJ = "cn-beijing"
SG = "ap-southeast-1"
US = "us-east-1"
DE = "eu-central-1"
JP = "ap-northeast-1"
HK = "cn-hongkong"
ALL_REGIONS = (BJ, SG, US, DE, JP, HK)

# Target pixel areas per tier (§6.5); 480P from the t2v 832*480 size.
TIER_AREA: dict[str, int] = {"480P": 832 * 480, "720P": 1280 * 720, "1080P": 1920 * 1080}

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
KF2V_TEMPLATES = frozenset({"hanfu-1", "solaron", "magazine", "mech1", "mech2"})  # §13

# Wan 3.0 ``ratio`` values (§5.5); "adaptive" follows the first frame.
WAN30_RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")

_TWO_TO_FIFTEEN = frozenset(range(2, 16))
_TWO_TO_THIRTY = frozenset(range(2, 31))
_FIVE_TEN_FIFTEEN = frozenset({5, 10, 15})


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
    family: Family = "i2v"
    # Region-specific duration sets (e.g. wan2.6-i2v "global" in US/DE: 5/10/15 only).
    region_durations: tuple[tuple[str, frozenset[int]], ...] = ()
    default_duration: int = 5
    singapore_alias_of: str | None = None

    @property
    def media_protocol(self) -> bool:
        return self.family in ("wan27", "wan30")

    @property
    def path_task(self) -> str:
        """The ``{task}`` of ``/services/aigc/{task}/video-synthesis`` this model answers on."""
        return "image2video" if self.family == "kf2v" else "video-generation"

    @property
    def has_audio_by_default(self) -> bool:
        return self.audio != "never"


def _rule(**kwargs: object) -> ModelRule:
    return ModelRule(**kwargs)  # type: ignore[arg-type]  # table rows are checked by tests


_FAST = {"submit_rps": 5, "concurrency": 5}
_SLOW = {"submit_rps": 2, "concurrency": 2}
_WAN27 = {
    "generation": "2.7", "regions": frozenset({BJ, SG}), "resolutions": ("720P", "1080P"),
    "default_resolution": "1080P", "durations": _TWO_TO_FIFTEEN, "audio": "always",
    "prompt_max": 5000, "image_max_mb": 20, "median_seconds": 180.0, "family": "wan27", **_FAST,
}  # fmt: skip
# Wan 3.0 rate limits are not in the S-RL copy read [uncertain]: 5/5 like the other fast
# models, overridable per model with EmulatorConfig.model_limits.
_WAN30 = {
    "generation": "3.0", "regions": frozenset(ALL_REGIONS),
    "resolutions": ("480P", "720P", "1080P"), "default_resolution": "1080P",
    "durations": _TWO_TO_THIRTY, "audio": "optional", "prompt_max": 20000, "image_max_mb": 20,
    "family": "wan30", **_FAST,
}  # fmt: skip
_KF2V = {"durations": frozenset({5}), "audio": "never", "prompt_max": 800, "image_max_mb": 10,
         "family": "kf2v"}  # fmt: skip

_RULES: tuple[ModelRule, ...] = (
    _rule(model_id="wan2.7-i2v", **_WAN27),
    _rule(model_id="wan2.7-i2v-2026-04-25", **_WAN27),
    _rule(model_id="wan2.6-i2v-flash", generation="2.6", regions=frozenset({BJ, SG}),
          resolutions=("720P", "1080P"), default_resolution="1080P", durations=_TWO_TO_FIFTEEN,
          audio="optional", prompt_max=1500, image_max_mb=20, median_seconds=90.0, **_FAST),
    _rule(model_id="wan2.6-i2v", generation="2.6", regions=frozenset({BJ, SG, US, DE}),
          resolutions=("720P", "1080P"), default_resolution="1080P", durations=_TWO_TO_FIFTEEN,
          region_durations=((US, _FIVE_TEN_FIFTEEN), (DE, _FIVE_TEN_FIFTEEN)),
          audio="always", prompt_max=1500, image_max_mb=20, median_seconds=180.0, **_FAST),
    _rule(model_id="wan2.6-i2v-us", generation="2.6", regions=frozenset({US}),
          resolutions=("720P", "1080P"), default_resolution="1080P",
          durations=_FIVE_TEN_FIFTEEN, audio="always", prompt_max=1500, image_max_mb=20,
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
    # --- first+last frame, own path (§5.4) ---
    _rule(model_id="wan2.2-kf2v-flash", generation="2.2", regions=frozenset({BJ}),
          resolutions=("480P", "720P", "1080P"), default_resolution="720P",
          median_seconds=90.0, **_KF2V, **_SLOW),
    _rule(model_id="wanx2.1-kf2v-plus", generation="2.1", regions=frozenset({BJ}),
          resolutions=("720P",), default_resolution="720P", median_seconds=240.0,
          templates=KF2V_TEMPLATES, **_KF2V, **_SLOW),
    _rule(model_id="wan2.1-kf2v-plus", generation="2.1", regions=frozenset({SG}),
          resolutions=("720P",), default_resolution="720P", median_seconds=240.0,
          templates=KF2V_TEMPLATES, singapore_alias_of="wanx2.1-kf2v-plus", submit_rps=1,
          concurrency=2, **_KF2V),
    # --- Wan 3.0 (§5.5) ---
    _rule(model_id="wan3.0-video", median_seconds=180.0, **_WAN30),
    _rule(model_id="wan3.0-video-prime", median_seconds=90.0, **_WAN30),
)  # fmt: skip

MODELS: dict[str, ModelRule] = {rule.model_id: rule for rule in _RULES}

KF2V_MODELS = frozenset(m for m, r in MODELS.items() if r.family == "kf2v")

NEGATIVE_PROMPT_MAX = 500
SEED_MAX = 2147483647
AUDIO_MAX_BYTES = 15 * 1024 * 1024
AUDIO_MIN_SECONDS = 3.0  # legacy audio_url (§6.4); wan2.7 driving_audio allows 2 s (§5.3)
AUDIO_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class ImageLimits:
    min_side: int
    max_side: int
    max_bytes: int
    max_aspect: float | None = None  # long side / short side; None = no documented limit


def image_limits(rule: ModelRule, strict_2025: bool, kf2v_2026: bool = False) -> ImageLimits:
    """Input-image limits per family (§6.1, §5.3, §5.4, §5.5)."""
    mb = 1024 * 1024
    if rule.family == "kf2v":
        # S-KF2V (2025-11) says 360–2000 px / 10 MB; whether it followed the 2026 raise of the
        # first-frame page is [uncertain] (kf2v_2026_image_limits).
        if kf2v_2026:
            return ImageLimits(240, 8000, 20 * mb)
        return ImageLimits(360, 2000, 10 * mb)
    if rule.family in ("wan27", "wan30"):
        return ImageLimits(240, 8000, 20 * mb, max_aspect=8.0)
    if strict_2025:
        return ImageLimits(360, 2000, 10 * mb)
    return ImageLimits(240, 8000, rule.image_max_mb * mb)


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


def nearest_ratio(width: int, height: int) -> str:
    """The Wan 3.0 ratio label closest (in log scale) to ``width``:``height``."""

    def distance(label: str) -> float:
        a, b = (int(x) for x in label.split(":"))
        return abs(math.log((width / height) / (a / b)))

    return min(WAN30_RATIOS, key=distance)


def ratio_size(label: str) -> tuple[int, int]:
    """``(w, h)`` of a ``"w:h"`` label."""
    a, b = (int(x) for x in label.split(":"))
    return a, b


def produces_audio(rule: ModelRule, audio_param: object) -> bool:
    """Whether the output has a sound track (§4.3 ``audio``, §5 audio column, §5.5)."""
    if rule.audio == "never":
        return False
    if rule.audio == "optional":
        return audio_param is not False
    return True
