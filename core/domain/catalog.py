"""The Wan model catalog: one row per model, everything the bot needs to know.

Facts come from ``shared/reference/dashscope-api.md`` (§1.1 availability per region, §5
capabilities, §5.1 prices, §5.3 wan2.7, §5.4 kf2v, §5.5 Wan 3.0, §6 input rules, §10 rate limits,
§13 effect templates). Adding a model is one ``Model(...)`` row in ``MODELS``; nothing else in
the code lists models. The types are in ``core.domain.capabilities``, the regions in
``core.domain.regions``, the effects in ``core.domain.effects`` (all re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from core.domain.capabilities import (
    AUDIO_LIMITS,
    DRIVING_AUDIO_LIMITS,
    FIRST_FRAME_AUDIO,
    FIRST_FRAME_ONLY,
    KF2V_MEDIA,
    UPLOADED_MEDIA,
    WAN27_MEDIA,
    WAN30_MEDIA,
    AudioLimits,
    AudioMode,
    Family,
    ImageLimits,
    Media,
    Model,
    everywhere,
    prices,
    region_ids,
)
from core.domain.effects import EFFECTS, I2V_EFFECTS, KF2V_EFFECTS, TURBO_EFFECTS, Effect
from core.domain.regions import BASE_URLS, CURRENCY, REGIONS, Region, RegionInfo

__all__ = [
    "ASPECTS",
    "AUDIO_LIMITS",
    "BASE_URLS",
    "CURRENCY",
    "DEFAULT_EFFECT_MODEL",
    "DEFAULT_MODEL",
    "EFFECTS",
    "END_FRAME_VARIANTS",
    "FILLS",
    "MODELS",
    "REGIONS",
    "SAFE_MAX_SIDE",
    "SAFE_MIN_SIDE",
    "AudioLimits",
    "AudioMode",
    "Effect",
    "Family",
    "ImageLimits",
    "Media",
    "Model",
    "Region",
    "RegionInfo",
    "effect_model",
    "end_frame_model",
    "find_model",
    "first_frame_models",
    "models_for_effect",
    "models_in",
    "models_taking",
    "output_size",
]

_MB = 1024 * 1024
_IMG_20 = ImageLimits(min_side=240, max_side=8000, max_bytes=20 * _MB)
_IMG_10 = ImageLimits(min_side=240, max_side=8000, max_bytes=10 * _MB)
#: kf2v's own page (2025-11) still says 360–2000 px and 10 MB (reference §5.4)
_IMG_KF2V = ImageLimits(min_side=360, max_side=2000, max_bytes=10 * _MB)

#: Image sides the media pipeline aims for: inside both the 2025 (360–2000 px) and the 2026
#: (240–8000 px) documented ranges, so a normalised image is valid whichever rule is live.
SAFE_MIN_SIDE = 360
SAFE_MAX_SIDE = 2000

_D2_15 = tuple(range(2, 16))
_D5_10_15 = (5, 10, 15)
#: Wan 3.0 ``parameters.ratio``: adaptive (follow the first frame) is the default (§5.5)
_WAN30_RATIOS = ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")


def _wan30(model_id: str, label: str, typical_seconds: float) -> Model:
    # Prices and rate limits are not published yet (reference §5.5): unknown prices, 5/5 limits
    # like every other fast model; an operator sets a price in PRICE_OVERRIDES.
    return Model(
        id=model_id,
        label=label,
        region_ids=everywhere(model_id),
        family=Family.WAN30,
        resolutions=("480P", "720P", "1080P"),
        default_resolution="1080P",
        durations=tuple(range(2, 31)),
        default_duration=5,
        audio=AudioMode.OPTIONAL,  # "开关声音价格相同": the same (unknown) price either way
        combinations=WAN30_MEDIA,
        prompt_max=20_000,
        image=_IMG_20,
        price=prices(),
        ratios=_WAN30_RATIOS,
        typical_seconds=typical_seconds,
        negative_prompt_max=None,
    )


MODELS: Mapping[str, Model] = MappingProxyType(
    {
        m.id: m
        for m in (
            Model(
                id="wan2.7-i2v",
                label="Wan 2.7",
                region_ids=region_ids(bj="wan2.7-i2v", sg="wan2.7-i2v"),
                family=Family.WAN27,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D2_15,
                default_duration=5,
                audio=AudioMode.ALWAYS,
                combinations=WAN27_MEDIA,
                prompt_max=5000,
                image=_IMG_20,
                price=prices(bj={"720P": 0.6, "1080P": 1.0}, sg={"720P": 0.10, "1080P": 0.15}),
                audio_limits=DRIVING_AUDIO_LIMITS,
                typical_seconds=180.0,
            ),
            Model(
                id="wan2.6-i2v",
                label="Wan 2.6",
                region_ids=region_ids(
                    bj="wan2.6-i2v", sg="wan2.6-i2v", us="wan2.6-i2v", de="wan2.6-i2v"
                ),
                family=Family.I2V,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D2_15,
                default_duration=5,
                audio=AudioMode.ALWAYS,
                combinations=FIRST_FRAME_AUDIO,
                prompt_max=1500,
                image=_IMG_20,
                price=prices(
                    bj={"720P": 0.6, "1080P": 1.0},
                    sg={"720P": 0.10, "1080P": 0.15},
                    us={"720P": 0.6, "1080P": 1.0},
                    de={"720P": 0.6, "1080P": 1.0},
                ),
                # the "global" deployment: 5/10/15 s only (§1.1; Frankfurt by the same rule)
                region_durations=MappingProxyType(
                    {Region.VIRGINIA: _D5_10_15, Region.FRANKFURT: _D5_10_15}
                ),
                typical_seconds=180.0,
                prompt_extend_reports_actual=False,
            ),
            Model(
                id="wan2.6-i2v-us",
                label="Wan 2.6 (US)",
                region_ids=region_ids(us="wan2.6-i2v-us"),
                family=Family.I2V,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D5_10_15,
                default_duration=5,
                audio=AudioMode.ALWAYS,
                combinations=FIRST_FRAME_AUDIO,
                prompt_max=1500,
                image=_IMG_20,
                price=prices(us={"720P": 0.733924, "1080P": 1.100886}),
                typical_seconds=180.0,
                prompt_extend_reports_actual=False,
            ),
            Model(
                id="wan2.6-i2v-flash",
                label="Wan 2.6 Flash",
                region_ids=region_ids(bj="wan2.6-i2v-flash", sg="wan2.6-i2v-flash"),
                family=Family.I2V,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D2_15,
                default_duration=5,
                audio=AudioMode.OPTIONAL,
                combinations=FIRST_FRAME_AUDIO,
                prompt_max=1500,
                image=_IMG_20,
                price=prices(bj={"720P": 0.30, "1080P": 0.50}, sg={"720P": 0.05, "1080P": 0.075}),
                silent_price=prices(
                    bj={"720P": 0.15, "1080P": 0.25}, sg={"720P": 0.025, "1080P": 0.0375}
                ),
                typical_seconds=90.0,
                prompt_extend_reports_actual=False,
            ),
            Model(
                id="wan2.5-i2v-preview",
                label="Wan 2.5 Preview",
                region_ids=region_ids(bj="wan2.5-i2v-preview", sg="wan2.5-i2v-preview"),
                family=Family.I2V,
                resolutions=("480P", "720P", "1080P"),
                default_resolution="1080P",
                durations=(5, 10),
                default_duration=5,
                audio=AudioMode.ALWAYS,
                combinations=FIRST_FRAME_AUDIO,
                prompt_max=1500,
                image=_IMG_20,
                fps=30,  # older docs said 24 fps [uncertain]
                price=prices(
                    bj={"480P": 0.30, "720P": 0.60, "1080P": 1.00},
                    sg={"480P": 0.05, "720P": 0.10, "1080P": 0.15},
                ),
                typical_seconds=180.0,
            ),
            Model(
                id="wan2.2-i2v-flash",
                label="Wan 2.2 Flash",
                region_ids=region_ids(bj="wan2.2-i2v-flash", sg="wan2.2-i2v-flash"),
                family=Family.I2V,
                resolutions=("480P", "720P", "1080P"),
                default_resolution="720P",
                durations=(5,),
                default_duration=5,
                audio=AudioMode.SILENT,
                combinations=FIRST_FRAME_ONLY,
                prompt_max=800,
                image=_IMG_10,
                price=prices(
                    bj={"480P": 0.10, "720P": 0.20, "1080P": 0.48},
                    sg={"480P": 0.015, "720P": 0.036},
                ),
                submit_rps=2,
                concurrency=2,
                typical_seconds=60.0,
            ),
            Model(
                id="wan2.2-i2v-plus",
                label="Wan 2.2 Plus",
                region_ids=region_ids(bj="wan2.2-i2v-plus", sg="wan2.2-i2v-plus"),
                family=Family.I2V,
                resolutions=("480P", "1080P"),
                default_resolution="1080P",
                durations=(5,),
                default_duration=5,
                audio=AudioMode.SILENT,
                combinations=FIRST_FRAME_ONLY,
                prompt_max=800,
                image=_IMG_10,
                price=prices(bj={"480P": 0.14, "1080P": 0.70}, sg={"480P": 0.02, "1080P": 0.10}),
                submit_rps=2,
                concurrency=2,
                typical_seconds=150.0,
            ),
            Model(
                id="wanx2.1-i2v-plus",
                label="Wan 2.1 Plus",
                region_ids=region_ids(bj="wanx2.1-i2v-plus", sg="wan2.1-i2v-plus"),
                family=Family.I2V,
                resolutions=("720P",),
                default_resolution="720P",
                durations=(5,),
                default_duration=5,
                audio=AudioMode.SILENT,
                combinations=FIRST_FRAME_ONLY,
                prompt_max=800,
                image=_IMG_10,
                price=prices(bj={"720P": 0.70}, sg={"720P": 0.10}),
                effects=I2V_EFFECTS,
                submit_rps=2,
                concurrency=2,
                typical_seconds=120.0,
                free_seconds_beijing=200,
            ),
            Model(
                id="wanx2.1-i2v-turbo",
                label="Wan 2.1 Turbo",
                region_ids=region_ids(bj="wanx2.1-i2v-turbo", sg="wan2.1-i2v-turbo"),
                family=Family.I2V,
                resolutions=("480P", "720P"),
                default_resolution="720P",
                durations=(3, 4, 5),
                default_duration=5,
                audio=AudioMode.SILENT,
                combinations=FIRST_FRAME_ONLY,
                prompt_max=800,
                image=_IMG_10,
                price=prices(bj={"480P": 0.24, "720P": 0.24}, sg={"480P": 0.036, "720P": 0.036}),
                effects=TURBO_EFFECTS,
                submit_rps=2,
                concurrency=2,
                typical_seconds=60.0,
                free_seconds_beijing=200,
            ),
            Model(
                id="wan2.2-kf2v-flash",
                label="Wan 2.2 Flash (first + last frame)",
                region_ids=region_ids(bj="wan2.2-kf2v-flash"),
                family=Family.KF2V,
                resolutions=("480P", "720P", "1080P"),
                default_resolution="720P",
                durations=(5,),
                default_duration=5,
                duration_fixed=True,
                audio=AudioMode.SILENT,
                combinations=KF2V_MEDIA,
                prompt_max=800,
                image=_IMG_KF2V,
                price=prices(bj={"480P": 0.10, "720P": 0.20, "1080P": 0.48}),
                submit_rps=2,
                concurrency=2,
                typical_seconds=90.0,
            ),
            Model(
                id="wanx2.1-kf2v-plus",
                label="Wan 2.1 Plus (first + last frame)",
                region_ids=region_ids(bj="wanx2.1-kf2v-plus", sg="wan2.1-kf2v-plus"),
                family=Family.KF2V,
                resolutions=("720P",),
                default_resolution="720P",
                durations=(5,),
                default_duration=5,
                duration_fixed=True,
                audio=AudioMode.SILENT,
                combinations=KF2V_MEDIA,
                prompt_max=800,
                image=_IMG_KF2V,
                # Singapore's price was not retrieved (reference §5.4): unknown there
                price=prices(bj={"720P": 0.70}),
                effects=KF2V_EFFECTS,
                # Beijing allows 2 creates a second, Singapore 1: the lower holds in both
                submit_rps=1,
                concurrency=2,
                typical_seconds=150.0,
                free_seconds_beijing=200,
            ),
            _wan30("wan3.0-video", "Wan 3.0", 180.0),
            _wan30("wan3.0-video-prime", "Wan 3.0 Prime", 90.0),
        )
    }
)

#: The model used when the user picks none: cheap, fast, with sound.
DEFAULT_MODEL = "wan2.6-i2v-flash"
#: The model used for effect templates when the user picks none (supports all first-frame ones).
DEFAULT_EFFECT_MODEL = "wanx2.1-i2v-plus"


def find_model(name: str) -> Model | None:
    """Look a model up by its catalog id or any regional id (``wan2.1-i2v-plus`` too)."""
    key = name.strip().lower()
    if key in MODELS:
        return MODELS[key]
    for model in MODELS.values():
        if key in model.region_ids.values():
            return model
    return None


def models_in(region: Region) -> tuple[Model, ...]:
    return tuple(m for m in MODELS.values() if m.available_in(region))


def models_for_effect(effect: str) -> tuple[Model, ...]:
    return tuple(m for m in MODELS.values() if effect in m.effects)


def effect_model(effect: str, region: Region) -> Model | None:
    """The model an effect runs on when the user picks none: ``DEFAULT_EFFECT_MODEL`` where it
    offers the effect, else the first model of ``region`` that does (kf2v for its templates)."""
    able = [m for m in models_for_effect(effect) if m.available_in(region)]
    for model in able:
        if model.id == DEFAULT_EFFECT_MODEL:
            return model
    return able[0] if able else None


#: A first-frame model's first-and-last-frame counterpart of the same generation and tier
#: (reference §5.4): the model an end image given to it goes to, said so to the user.
END_FRAME_VARIANTS: Mapping[str, str] = MappingProxyType(
    {"wan2.2-i2v-flash": "wan2.2-kf2v-flash", "wanx2.1-i2v-plus": "wanx2.1-kf2v-plus"}
)


def end_frame_model(model: Model, region: Region) -> Model:
    """The model that makes ``model``'s video end on an end image in ``region``: ``model``
    itself when it takes one (wan2.7, Wan 3.0, kf2v), else its kf2v counterpart where the
    region offers it, else ``model`` (the validation then refuses, naming the models that can)."""
    if model.takes(Media.LAST_FRAME):
        return model
    variant = MODELS.get(END_FRAME_VARIANTS.get(model.id, ""))
    if variant is not None and variant.available_in(region) and variant.takes(Media.LAST_FRAME):
        return variant
    return model


def models_taking(media: Media, region: Region) -> tuple[Model, ...]:
    """The models of ``region`` that can take ``media`` there: an end image
    (``Media.LAST_FRAME``), a clip to continue (``Media.CLIP``), an audio file
    (``Media.AUDIO``). A clip or an audio file also needs the region's temporary storage."""
    if media in UPLOADED_MEDIA and not REGIONS[region].temporary_storage:
        return ()
    return tuple(m for m in models_in(region) if m.takes(media))


def first_frame_models(region: Region) -> tuple[Model, ...]:
    """The models of ``region`` that make a video from one image alone (kf2v models also need
    an end image): what a form without an end-image input may offer."""
    alone = frozenset({Media.FIRST_FRAME})
    return tuple(m for m in models_in(region) if alone in m.combinations)


def output_size(width: int, height: int, resolution: str) -> tuple[int, int]:
    """Output frame size for an input of ``width``×``height`` (reference §6.5, heuristic).

    Keeps the input aspect ratio at the tier's pixel count, both sides floored to multiples of 16.
    750×1000 at 720P gives 816×1104, the documented example.
    """
    area = {"480P": 832 * 480, "720P": 1280 * 720, "1080P": 1920 * 1080}[resolution]
    ratio = width / height
    w = int((area * ratio) ** 0.5 // 16 * 16)
    h = int((area / ratio) ** 0.5 // 16 * 16)
    return max(w, 16), max(h, 16)


#: Aspect presets offered to users; ``original`` keeps the source ratio.
ASPECTS: dict[str, tuple[int, int] | None] = {
    "original": None,
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
}
#: How a preset ratio is reached: cut the centre out, or pad with a blurred copy of the image.
FILLS = ("crop", "blur")
