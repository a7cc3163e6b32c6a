"""The Wan image-to-video model catalog: one row per model, everything the bot needs to know.

Facts come from ``shared/reference/dashscope-api.md`` (§5 capabilities, §5.1 prices, §5.2 wan2.7,
§6 input rules, §10 rate limits, §13 effect templates). Adding a model is one ``Model(...)`` row in
``MODELS``; nothing else in the code lists models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Region(StrEnum):
    """DashScope regions. Keys, endpoints and model ids all belong to one region."""

    BEIJING = "cn-beijing"
    SINGAPORE = "ap-southeast-1"
    VIRGINIA = "us-east-1"


#: Default native API base URL of each region (reference §1).
BASE_URLS: Mapping[Region, str] = MappingProxyType(
    {
        Region.BEIJING: "https://dashscope.aliyuncs.com/api/v1",
        Region.SINGAPORE: "https://dashscope-intl.aliyuncs.com/api/v1",
        Region.VIRGINIA: "https://dashscope-us.aliyuncs.com/api/v1",
    }
)

#: Currency prices are quoted in, per region (reference §5.1).
CURRENCY: Mapping[Region, str] = MappingProxyType(
    {Region.BEIJING: "CNY", Region.SINGAPORE: "USD", Region.VIRGINIA: "CNY"}
)


class Protocol(StrEnum):
    """Which request body generation a model speaks (reference §4 vs §5.2)."""

    LEGACY = "img_url"  # wan2.1 … wan2.6: input.img_url / audio_url / template
    MEDIA = "media"  # wan2.7: input.media = [{"type": "first_frame", "url": …}, …]


class AudioMode(StrEnum):
    SILENT = "silent"  # the model never makes sound
    ALWAYS = "always"  # always with sound: generated, or aligned to a custom audio file
    OPTIONAL = "optional"  # parameters.audio switches sound on (default) or off


@dataclass(frozen=True, slots=True)
class Effect:
    """A video-effect template (reference §13)."""

    name: str  # wire value of input.template
    zh: str
    en: str
    category: str


@dataclass(frozen=True, slots=True)
class ImageLimits:
    min_side: int
    max_side: int
    max_bytes: int
    formats: frozenset[str] = frozenset({"JPEG", "PNG", "BMP", "WEBP"})


@dataclass(frozen=True, slots=True)
class AudioLimits:
    min_seconds: float
    max_seconds: float
    max_bytes: int
    formats: frozenset[str] = frozenset({"wav", "mp3"})


@dataclass(frozen=True, slots=True)
class Model:
    """One Wan image-to-video model. ``id`` is the Beijing id; ``region_ids`` maps availability."""

    id: str
    label: str
    region_ids: Mapping[Region, str]
    protocol: Protocol
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: tuple[int, ...]
    default_duration: int
    audio: AudioMode
    custom_audio: bool  # accepts a user audio file (audio_url / driving_audio)
    effects: tuple[str, ...]  # template names this model supports
    prompt_max: int
    image: ImageLimits
    fps: int
    #: price per output second: region -> resolution -> unit price (with sound where optional)
    price: Mapping[Region, Mapping[str, float]]
    #: price per output second when sound is switched off (AudioMode.OPTIONAL only)
    silent_price: Mapping[Region, Mapping[str, float]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    submit_rps: int = 5
    concurrency: int = 5
    #: typical seconds from create to SUCCEEDED at the default settings (a prior for the poller)
    typical_seconds: float = 120.0
    prompt_extend_reports_actual: bool = True  # SUCCEEDED output carries actual_prompt
    free_seconds_beijing: int = 50
    negative_prompt_max: int = 500

    def wire_id(self, region: Region) -> str:
        return self.region_ids[region]

    def available_in(self, region: Region) -> bool:
        return region in self.region_ids

    def unit_price(self, region: Region, resolution: str, *, sound: bool = True) -> float | None:
        table = self.price if sound or self.audio is not AudioMode.OPTIONAL else self.silent_price
        return table.get(region, {}).get(resolution)

    def cost(self, region: Region, resolution: str, seconds: int, *, sound: bool = True) -> float:
        unit = self.unit_price(region, resolution, sound=sound)
        return 0.0 if unit is None else round(unit * seconds, 6)


def _prices(
    bj: Mapping[str, float] | None = None,
    sg: Mapping[str, float] | None = None,
    us: Mapping[str, float] | None = None,
) -> Mapping[Region, Mapping[str, float]]:
    out: dict[Region, Mapping[str, float]] = {}
    for region, table in ((Region.BEIJING, bj), (Region.SINGAPORE, sg), (Region.VIRGINIA, us)):
        if table is not None:
            out[region] = MappingProxyType(dict(table))
    return MappingProxyType(out)


_MB = 1024 * 1024
_IMG_20 = ImageLimits(min_side=240, max_side=8000, max_bytes=20 * _MB)
_IMG_10 = ImageLimits(min_side=240, max_side=8000, max_bytes=10 * _MB)

#: Audio accepted by DashScope (reference §6.4; wan2.7 accepts from 2 s, §5.2).
AUDIO_LIMITS = AudioLimits(min_seconds=3.0, max_seconds=30.0, max_bytes=15 * _MB)

#: Image sides the media pipeline aims for: inside both the 2025 (360–2000 px) and the 2026
#: (240–8000 px) documented ranges, so a normalised image is valid whichever rule is live.
SAFE_MIN_SIDE = 360
SAFE_MAX_SIDE = 2000

EFFECTS: Mapping[str, Effect] = MappingProxyType(
    {
        e.name: e
        for e in (
            Effect("squish", "解压捏捏", "Squish", "general"),
            Effect("rotation", "转圈圈", "Spin around", "general"),
            Effect("poke", "戳戳乐", "Poke", "general"),
            Effect("inflate", "气球膨胀", "Balloon inflate", "general"),
            Effect("dissolve", "分子扩散", "Molecular dissolve", "general"),
            Effect("melt", "热浪融化", "Heat-wave melt", "general"),
            Effect("icecream", "冰淇淋星球", "Ice-cream planet", "general"),
            Effect("carousel", "时光木马", "Time carousel", "single person"),
            Effect("singleheart", "爱你哟", "Love you (heart)", "single person"),
            Effect("dance1", "摇摆时刻", "Swing time", "single person"),
            Effect("dance2", "头号甩舞", "Head-flip dance", "single person"),
            Effect("dance3", "星摇时刻", "Star sway", "single person"),
            Effect("dance4", "指感节奏", "Finger rhythm", "single person"),
            Effect("dance5", "舞动开关", "Dance switch", "single person"),
            Effect("mermaid", "人鱼觉醒", "Mermaid awakening", "single person"),
            Effect("graduation", "学术加冕", "Graduation crown", "single person"),
            Effect("dragon", "巨兽追袭", "Giant beast chase", "single person"),
            Effect("money", "财从天降", "Money rain", "single person"),
            Effect("jellyfish", "水母之约", "Jellyfish date", "single person"),
            Effect("pupil", "瞳孔穿越", "Through the pupil", "single person"),
            Effect("flying", "魔法悬浮", "Magic levitation", "person or animal"),
            Effect("rose", "赠人玫瑰", "Give a rose", "person or animal"),
            Effect("crystalrose", "闪亮玫瑰", "Crystal rose", "person or animal"),
            Effect("hug", "爱的抱抱", "Hug", "two people"),
            Effect("frenchkiss", "唇齿相依", "Kiss", "two people"),
            Effect("coupleheart", "双倍心动", "Couple heart", "two people"),
        )
    }
)

_TURBO_EFFECTS = (
    "squish", "rotation", "poke", "inflate", "dissolve", "carousel", "singleheart",
    "flying", "rose", "crystalrose", "hug", "frenchkiss", "coupleheart",
)  # fmt: skip


def _ids(bj: str, sg: str | None = None, us: str | None = None) -> Mapping[Region, str]:
    out = {Region.BEIJING: bj}
    if sg is not None:
        out[Region.SINGAPORE] = sg
    if us is not None:
        out[Region.VIRGINIA] = us
    return MappingProxyType(out)


_D2_15 = tuple(range(2, 16))

MODELS: Mapping[str, Model] = MappingProxyType(
    {
        m.id: m
        for m in (
            Model(
                id="wan2.7-i2v",
                label="Wan 2.7",
                region_ids=_ids("wan2.7-i2v", "wan2.7-i2v"),
                protocol=Protocol.MEDIA,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D2_15,
                default_duration=5,
                audio=AudioMode.ALWAYS,
                custom_audio=True,
                effects=(),
                prompt_max=1500,
                image=_IMG_20,
                fps=30,
                price=_prices(bj={"720P": 0.6, "1080P": 1.0}, sg={"720P": 0.10, "1080P": 0.15}),
                typical_seconds=180.0,
            ),
            Model(
                id="wan2.6-i2v",
                label="Wan 2.6",
                region_ids=_ids("wan2.6-i2v", "wan2.6-i2v", "wan2.6-i2v"),
                protocol=Protocol.LEGACY,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D2_15,
                default_duration=5,
                audio=AudioMode.ALWAYS,
                custom_audio=True,
                effects=(),
                prompt_max=1500,
                image=_IMG_20,
                fps=30,
                price=_prices(
                    bj={"720P": 0.6, "1080P": 1.0},
                    sg={"720P": 0.10, "1080P": 0.15},
                    us={"720P": 0.6, "1080P": 1.0},
                ),
                typical_seconds=180.0,
                prompt_extend_reports_actual=False,
            ),
            Model(
                id="wan2.6-i2v-flash",
                label="Wan 2.6 Flash",
                region_ids=_ids("wan2.6-i2v-flash", "wan2.6-i2v-flash"),
                protocol=Protocol.LEGACY,
                resolutions=("720P", "1080P"),
                default_resolution="1080P",
                durations=_D2_15,
                default_duration=5,
                audio=AudioMode.OPTIONAL,
                custom_audio=True,
                effects=(),
                prompt_max=1500,
                image=_IMG_20,
                fps=30,
                price=_prices(bj={"720P": 0.30, "1080P": 0.50}, sg={"720P": 0.05, "1080P": 0.075}),
                silent_price=_prices(
                    bj={"720P": 0.15, "1080P": 0.25}, sg={"720P": 0.025, "1080P": 0.0375}
                ),
                typical_seconds=90.0,
                prompt_extend_reports_actual=False,
            ),
            Model(
                id="wan2.5-i2v-preview",
                label="Wan 2.5 Preview",
                region_ids=_ids("wan2.5-i2v-preview", "wan2.5-i2v-preview"),
                protocol=Protocol.LEGACY,
                resolutions=("480P", "720P", "1080P"),
                default_resolution="1080P",
                durations=(5, 10),
                default_duration=5,
                audio=AudioMode.ALWAYS,
                custom_audio=True,
                effects=(),
                prompt_max=1500,
                image=_IMG_20,
                fps=30,  # older docs said 24 fps [uncertain]
                price=_prices(
                    bj={"480P": 0.30, "720P": 0.60, "1080P": 1.00},
                    sg={"480P": 0.05, "720P": 0.10, "1080P": 0.15},
                ),
                typical_seconds=180.0,
            ),
            Model(
                id="wan2.2-i2v-flash",
                label="Wan 2.2 Flash",
                region_ids=_ids("wan2.2-i2v-flash", "wan2.2-i2v-flash"),
                protocol=Protocol.LEGACY,
                resolutions=("480P", "720P", "1080P"),
                default_resolution="720P",
                durations=(5,),
                default_duration=5,
                audio=AudioMode.SILENT,
                custom_audio=False,
                effects=(),
                prompt_max=800,
                image=_IMG_10,
                fps=30,
                price=_prices(
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
                region_ids=_ids("wan2.2-i2v-plus", "wan2.2-i2v-plus"),
                protocol=Protocol.LEGACY,
                resolutions=("480P", "1080P"),
                default_resolution="1080P",
                durations=(5,),
                default_duration=5,
                audio=AudioMode.SILENT,
                custom_audio=False,
                effects=(),
                prompt_max=800,
                image=_IMG_10,
                fps=30,
                price=_prices(bj={"480P": 0.14, "1080P": 0.70}, sg={"480P": 0.02, "1080P": 0.10}),
                submit_rps=2,
                concurrency=2,
                typical_seconds=150.0,
            ),
            Model(
                id="wanx2.1-i2v-plus",
                label="Wan 2.1 Plus",
                region_ids=_ids("wanx2.1-i2v-plus", "wan2.1-i2v-plus"),
                protocol=Protocol.LEGACY,
                resolutions=("720P",),
                default_resolution="720P",
                durations=(5,),
                default_duration=5,
                audio=AudioMode.SILENT,
                custom_audio=False,
                effects=tuple(EFFECTS),
                prompt_max=800,
                image=_IMG_10,
                fps=30,
                price=_prices(bj={"720P": 0.70}, sg={"720P": 0.10}),
                submit_rps=2,
                concurrency=2,
                typical_seconds=120.0,
                free_seconds_beijing=200,
            ),
            Model(
                id="wanx2.1-i2v-turbo",
                label="Wan 2.1 Turbo",
                region_ids=_ids("wanx2.1-i2v-turbo", "wan2.1-i2v-turbo"),
                protocol=Protocol.LEGACY,
                resolutions=("480P", "720P"),
                default_resolution="720P",
                durations=(3, 4, 5),
                default_duration=5,
                audio=AudioMode.SILENT,
                custom_audio=False,
                effects=_TURBO_EFFECTS,
                prompt_max=800,
                image=_IMG_10,
                fps=30,
                price=_prices(bj={"480P": 0.24, "720P": 0.24}, sg={"480P": 0.036, "720P": 0.036}),
                submit_rps=2,
                concurrency=2,
                typical_seconds=60.0,
                free_seconds_beijing=200,
            ),
        )
    }
)

#: The model used when the user picks none: cheap, fast, with sound.
DEFAULT_MODEL = "wan2.6-i2v-flash"
#: The model used for effect templates when the user picks none (supports all templates).
DEFAULT_EFFECT_MODEL = "wanx2.1-i2v-plus"


def find_model(name: str) -> Model | None:
    """Look a model up by its Beijing id or any regional id (``wan2.1-i2v-plus`` too)."""
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
