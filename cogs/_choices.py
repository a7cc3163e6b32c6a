"""Autocomplete lists for the animate commands: models (what each makes, at what price) and
effects (Chinese and English names with their category), in the reader's language."""

from __future__ import annotations

from typing import Any

from discord import app_commands

from cogs import _embeds
from cogs._words import N_, say, seconds
from core.domain.catalog import (
    EFFECTS,
    Media,
    Model,
    Region,
    end_frame_model,
    first_frame_models,
    models_in,
    models_taking,
)

_CATEGORIES = {
    "general": N_("effect.general"),
    "single person": N_("effect.single_person"),
    "person or animal": N_("effect.person_or_animal"),
    "two people": N_("effect.two_people"),
    "first and last frame": N_("effect.first_last_frame"),
}


def attached_models(given: Any, region: Region) -> tuple[Model, ...]:
    """The models that can take what ``given`` (a command's options so far) attaches: a clip
    to continue, an end image (or hand it to their first-and-last-frame version), else the
    image alone (no kf2v model: it needs an end image)."""
    if getattr(given, "clip", None):
        return models_taking(Media.CLIP, region)
    if getattr(given, "end_image", None):
        return tuple(
            m for m in models_in(region) if end_frame_model(m, region).takes(Media.LAST_FRAME)
        )
    return first_frame_models(region)


def effect_choices(
    region: Region, current: str, chosen: str | None, locale: str
) -> list[app_commands.Choice[str]]:
    """The effects of the region (of the ``chosen`` model) matching what was typed."""
    needle = current.strip().lower()
    supported = {e for m in models_in(region) for e in m.effects if not chosen or m.id == chosen}
    out = []
    for e in EFFECTS.values():
        if e.name not in supported:
            continue
        if needle and not any(needle in s.lower() for s in (e.name, e.zh, e.en)):
            continue
        category = say(locale, _CATEGORIES.get(e.category, "effect.general"))
        out.append(app_commands.Choice(name=f"{e.zh} · {e.en} ({category})", value=e.name))
    return out[:25]


def model_choices(
    region: Region,
    current: str,
    locale: str,
    *,
    effect: str | None,
    models: tuple[Model, ...] | None = None,
) -> list[app_commands.Choice[str]]:
    """Models (of the region, or ``models``) matching what was typed: label, price,
    resolutions, lengths."""
    needle = current.strip().lower()
    out = []
    for m in models_in(region) if models is None else models:
        if effect is not None and effect not in m.effects:
            continue
        if needle and needle not in m.id and needle not in m.label.lower():
            continue
        d = m.durations
        durations = seconds(locale, f"{d[0]}-{d[-1]}" if len(d) > 1 else d[0])
        price = _embeds.price_hint(m, region, locale)
        name = f"{m.label} — {price} · {'/'.join(m.resolutions)} · {durations}"
        out.append(app_commands.Choice(name=name[:100], value=m.id))
    return out[:25]
