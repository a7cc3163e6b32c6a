"""What a Wan model is and can do: its wire family, the media it takes, its limits and prices.

The rows themselves are in ``core.domain.catalog``; the rules that compare a request with these
capabilities are in ``core.domain.validation`` and ``core.domain.combinations``. Facts from
``shared/reference/dashscope-api.md`` §4–§6 and §5.3–§5.5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from core.domain.regions import Region


class Family(StrEnum):
    """Which request a model speaks: the create path and the body (reference §2, §4, §5.3–§5.5)."""

    I2V = "i2v"  # wan2.1 … wan2.6: input.img_url (+ audio_url, template)
    WAN27 = "wan2.7"  # input.media[]: first_frame / last_frame / first_clip / driving_audio
    KF2V = "kf2v"  # own path (image2video): input.first_frame_url / last_frame_url (+ template)
    WAN30 = "wan3.0"  # input.media[]: first_frame / last_frame; parameters.ratio and audio


class AudioMode(StrEnum):
    SILENT = "silent"  # the model never makes sound
    ALWAYS = "always"  # always with sound: generated, or aligned to a custom audio file
    OPTIONAL = "optional"  # parameters.audio switches sound on (default) or off


class Media(StrEnum):
    """The input files a request can carry."""

    FIRST_FRAME = "first_frame"  # the image (every request without a clip)
    LAST_FRAME = "last_frame"  # an end image: the video ends on it
    CLIP = "first_clip"  # a video to continue (its last frames lead into the new part)
    AUDIO = "audio"  # a sound file to follow (audio_url / driving_audio)


#: Media DashScope takes only as a URL (public, or its temporary ``oss://`` storage) — never as
#: Base64 (reference §5.3, §6.4): the bot can send them only where temporary storage exists.
UPLOADED_MEDIA = frozenset({Media.CLIP, Media.AUDIO})

Combination = frozenset[Media]


def combos(*sets: tuple[Media, ...]) -> frozenset[Combination]:
    return frozenset(frozenset(s) for s in sets)


_F, _L, _C, _A = Media.FIRST_FRAME, Media.LAST_FRAME, Media.CLIP, Media.AUDIO
#: first-frame models without a sound input
FIRST_FRAME_ONLY = combos((_F,))
#: wan2.5 / wan2.6: the image, optionally with audio_url (reference §4.2)
FIRST_FRAME_AUDIO = combos((_F,), (_F, _A))
#: wan2.7-i2v, exactly the legal sets of §5.3 ("非法组合将报错")
WAN27_MEDIA = combos((_F,), (_F, _A), (_F, _L), (_F, _L, _A), (_C,), (_C, _L))
#: kf2v: first and last frame (a template takes the first frame alone, reference §5.4, §13)
KF2V_MEDIA = combos((_F, _L))
#: Wan 3.0 image-to-video: first frame, or first + last frame (no audio with them, §5.5)
WAN30_MEDIA = combos((_F,), (_F, _L))
#: what a request with an effect template carries, on every model (reference §6.3, §13)
TEMPLATE_MEDIA: Combination = frozenset({_F})


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


_MB = 1024 * 1024
#: audio_url of wan2.5 / wan2.6 (reference §6.4)
AUDIO_LIMITS = AudioLimits(min_seconds=3.0, max_seconds=30.0, max_bytes=15 * _MB)
#: driving_audio of wan2.7 (reference §5.3): from 2 s
DRIVING_AUDIO_LIMITS = AudioLimits(min_seconds=2.0, max_seconds=30.0, max_bytes=15 * _MB)

PriceTable = Mapping[Region, Mapping[str, float]]
_NO_PRICES: PriceTable = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Model:
    """One Wan model. ``id`` is the catalog id (the Beijing id where there is one);
    ``region_ids`` maps every region that serves it to the id it has there."""

    id: str
    label: str
    region_ids: Mapping[Region, str]
    family: Family
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: tuple[int, ...]
    default_duration: int
    audio: AudioMode
    #: the exact sets of input media the model takes (``Media``); anything else is refused
    combinations: frozenset[Combination]
    prompt_max: int
    image: ImageLimits
    #: price per output second: region -> resolution -> unit price (with sound where optional);
    #: a missing entry means no published price (the estimate then says "unknown")
    price: PriceTable
    effects: tuple[str, ...] = ()  # template names this model supports
    fps: int = 30
    #: price per output second when sound is switched off (AudioMode.OPTIONAL only)
    silent_price: PriceTable = field(default_factory=lambda: _NO_PRICES)
    #: durations a region allows instead of ``durations`` (wan2.6-i2v in Virginia / Frankfurt)
    region_durations: Mapping[Region, tuple[int, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: ``parameters.ratio`` values, the default first (Wan 3.0); empty: the model has none
    ratios: tuple[str, ...] = ()
    audio_limits: AudioLimits = AUDIO_LIMITS
    #: "fixed at 5 and cannot be changed" (kf2v): ``parameters.duration`` is not sent
    duration_fixed: bool = False
    submit_rps: int = 5
    concurrency: int = 5
    #: typical seconds from create to SUCCEEDED at the default settings (a prior for the poller)
    typical_seconds: float = 120.0
    prompt_extend_reports_actual: bool = True  # SUCCEEDED output carries actual_prompt
    free_seconds_beijing: int = 50
    #: None: the model documents no negative prompt (Wan 3.0), so one is refused, not dropped
    negative_prompt_max: int | None = 500

    def wire_id(self, region: Region) -> str:
        return self.region_ids[region]

    def available_in(self, region: Region) -> bool:
        return region in self.region_ids

    def durations_in(self, region: Region) -> tuple[int, ...]:
        return self.region_durations.get(region, self.durations)

    def takes(self, media: Media) -> bool:
        """Some legal combination of this model includes ``media``."""
        return any(media in combo for combo in self.combinations)

    @property
    def custom_audio(self) -> bool:
        """Accepts a user audio file (audio_url / driving_audio)."""
        return self.takes(Media.AUDIO)

    @property
    def default_ratio(self) -> str | None:
        return self.ratios[0] if self.ratios else None

    def unit_price(self, region: Region, resolution: str, *, sound: bool = True) -> float | None:
        """The published price per output second; None when there is none (see
        ``core.domain.pricing`` for the price with the operator's overrides)."""
        table = self.price if sound or self.audio is not AudioMode.OPTIONAL else self.silent_price
        return table.get(region, {}).get(resolution)


#: the short region names the catalog rows use
_SHORT = {
    "bj": Region.BEIJING,
    "sg": Region.SINGAPORE,
    "us": Region.VIRGINIA,
    "de": Region.FRANKFURT,
    "jp": Region.TOKYO,
    "hk": Region.HONG_KONG,
}


def prices(**by_region: Mapping[str, float]) -> PriceTable:
    """``prices(bj={...}, sg={...})``: a price table keyed by region."""
    return MappingProxyType({_SHORT[k]: MappingProxyType(dict(v)) for k, v in by_region.items()})


def region_ids(**by_region: str) -> Mapping[Region, str]:
    """``region_ids(bj="wanx2.1-i2v-plus", sg="wan2.1-i2v-plus")``: availability and wire ids."""
    return MappingProxyType({_SHORT[k]: v for k, v in by_region.items()})


def everywhere(model_id: str) -> Mapping[Region, str]:
    """The same id in every region (Wan 3.0)."""
    return MappingProxyType(dict.fromkeys(Region, model_id))
