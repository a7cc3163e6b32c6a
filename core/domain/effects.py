"""Video-effect templates (reference §13): what each is called and which models offer it.

An effect replaces the prompt: DashScope takes one first-frame image and the template name.
First-frame templates run on ``wanx2.1-i2v-plus`` (all) and ``wanx2.1-i2v-turbo`` (some); the
first-and-last-frame templates run on ``wanx2.1-kf2v-plus`` only, which then ignores a last frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Effect:
    """A video-effect template (reference §13)."""

    name: str  # wire value of input.template
    zh: str
    en: str
    category: str


_I2V = (
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
_KF2V = (
    Effect("hanfu-1", "唐韵翩然", "Tang-style grace", "first and last frame"),
    Effect("solaron", "机甲变身", "Mecha transformation", "first and last frame"),
    Effect("magazine", "闪耀封面", "Shining cover", "first and last frame"),
    Effect("mech1", "机械觉醒", "Mechanical awakening", "first and last frame"),
    Effect("mech2", "赛博登场", "Cyber debut", "first and last frame"),
)

EFFECTS: Mapping[str, Effect] = MappingProxyType({e.name: e for e in (*_I2V, *_KF2V)})

#: every first-frame template (wanx2.1-i2v-plus)
I2V_EFFECTS: tuple[str, ...] = tuple(e.name for e in _I2V)
#: the subset wanx2.1-i2v-turbo offers
TURBO_EFFECTS: tuple[str, ...] = (
    "squish", "rotation", "poke", "inflate", "dissolve", "carousel", "singleheart",
    "flying", "rose", "crystalrose", "hug", "frenchkiss", "coupleheart",
)  # fmt: skip
#: the first-and-last-frame templates (wanx2.1-kf2v-plus)
KF2V_EFFECTS: tuple[str, ...] = tuple(e.name for e in _KF2V)
