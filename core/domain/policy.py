"""A server's policy, the pure part: who may ask where, and what they may ask for.

``Policy.of`` resolves a server's settings (``core.domain.guild_settings``) for one member;
``shape`` applies it to a request before validation: where and by whom (channel and role lists),
the server's default model, the allowed models, the largest resolution and duration (a request
that names none gets the largest allowed; one that asks for more is refused), sound and custom
audio, and the prompt block-list. Quotas are ``core.domain.quota``. Every refusal says what is
allowed instead; nothing has been read or spent when it is raised.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from core.domain.catalog import (
    DEFAULT_EFFECT_MODEL,
    DEFAULT_MODEL,
    AudioMode,
    Model,
    Region,
    effect_model,
    find_model,
)
from core.domain.errors import AnimateError, Input, Kind
from core.domain.guild_settings import RESOLUTIONS, OperatorDefaults, ServerSettings, normalise_word
from core.domain.jobs import ChatRef, JobSpec
from core.domain.quota import Limits
from core.domain.validation import resolve_model


@dataclass(frozen=True, slots=True)
class Member:
    """What a front-end tells the facade about the requester, in platform-neutral terms."""

    #: the requester's role ids in this server (Discord roles, Slack user groups …)
    roles: frozenset[str] = frozenset()
    #: may change this server's settings and see its spending (Discord: Manage Server)
    admin: bool = False
    #: channel ids that count as "here" besides ``ChatRef.channel`` (a thread's parent)
    places: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Refs:
    """Channel or role ids named in a message; a front-end shows them as mentions."""

    kind: Literal["channel", "role"]
    ids: tuple[str, ...]

    def __str__(self) -> str:
        return ", ".join(self.ids)


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings that apply to one member in one server (DMs: the operator's defaults)."""

    channels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    default_model: str | None = None
    models: tuple[str, ...] = ()
    max_resolution: str | None = None
    max_duration: int = 0
    sound: bool = True
    custom_audio: bool = True
    blocked_words: tuple[str, ...] = ()
    limits: Limits = dataclasses.field(default_factory=Limits)

    @classmethod
    def of(cls, settings: ServerSettings, operator: OperatorDefaults, member: Member) -> Policy:
        def get(name: str) -> object:
            return settings.resolve(name, operator, member.roles).value

        return cls(
            channels=_strs(get("channels")),
            roles=_strs(get("roles")),
            default_model=_opt(get("default_model")),
            models=_strs(get("models")),
            max_resolution=_opt(get("max_resolution")),
            max_duration=_whole(get("max_duration")),
            sound=get("sound") is not False,
            custom_audio=get("custom_audio") is not False,
            blocked_words=_strs(get("blocked_words")),
            limits=Limits(
                active_jobs=_whole(get("active_jobs")),
                daily_seconds=_whole(get("daily_seconds")),
                cooldown_seconds=_whole(get("cooldown_seconds")),
                monthly_budget=_amount(get("monthly_budget")),
            ),
        )


# settings.parse gave every value its declared type; these only narrow it for the checker
def _strs(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple | list) else ()


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _amount(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _refuse(message: str, key: str, subject: Input | None = None, **params: object) -> AnimateError:
    return AnimateError(message, key=key, params=params, kind=Kind.PERMISSION, subject=subject)


def check_place(policy: Policy, chat: ChatRef, member: Member) -> None:
    """Refuse a request from a channel or a member the server does not allow."""
    here = {chat.channel, *member.places}
    if policy.channels and not here & set(policy.channels):
        raise _refuse(
            "This server allows videos only in some channels; use one of them: "
            f"{', '.join(policy.channels)}.",
            "policy.channel",
            channels=Refs("channel", policy.channels),
        )
    # admins always pass, so a role list can never lock them out of their own server
    if policy.roles and not member.admin and not member.roles & set(policy.roles):
        raise _refuse(
            "This server allows videos only for some roles, and you have none of them: "
            f"{', '.join(policy.roles)}.",
            "policy.role",
            roles=Refs("role", policy.roles),
        )


def shape(spec: JobSpec, policy: Policy, region: Region, *, audio: bool) -> JobSpec:
    """``spec`` with the server's choices filled in (an empty model, resolution or duration
    means "no preference"), or a refusal naming what the server allows."""
    model = _model(spec, policy, region)
    resolution = _resolution(spec, policy, model)
    duration = _duration(spec, policy, model)
    sound = spec.sound
    if not policy.sound and model.audio is not AudioMode.SILENT:
        if model.audio is AudioMode.ALWAYS:
            raise _refuse(
                f"This server allows only silent videos, and {model.id} always makes sound; "
                "pick a silent model.",
                "policy.sound",
                model=model.id,
            )
        sound = False
    if audio and not policy.custom_audio:
        raise _refuse(
            "This server does not allow your own audio files; leave the audio out.",
            "policy.custom_audio",
            Input.AUDIO,
        )
    _check_words(spec, policy)
    return dataclasses.replace(
        spec, model=model.id, resolution=resolution, duration=duration, sound=sound
    )


def _model(spec: JobSpec, policy: Policy, region: Region) -> Model:
    allowed = policy.models
    if spec.model:
        model = resolve_model(spec.model, region)
        if allowed and model.id not in allowed:
            raise _refuse(
                f"This server does not allow {model.id}; allowed: {', '.join(allowed)}.",
                "policy.model",
                model=model.id,
                models=", ".join(allowed),
            )
        return model
    if spec.template:
        # the first-and-last-frame templates run on kf2v: the effect picks its model
        found_for = effect_model(spec.template, region)
        preferred = [found_for.id if found_for else DEFAULT_EFFECT_MODEL]
    else:
        preferred = [m for m in (policy.default_model, DEFAULT_MODEL) if m]
    candidates = [*preferred, *allowed]
    for name in candidates:
        found = find_model(name)
        if found is None or not found.available_in(region):
            continue
        if allowed and found.id not in allowed:
            continue
        if spec.template and spec.template not in found.effects:
            continue
        return found
    fallback = resolve_model(candidates[0], region)  # the refusal that explains it
    if allowed and fallback.id not in allowed:
        # e.g. an effect none of the allowed models offers: never past the server's list
        raise _refuse(
            f"This server does not allow {fallback.id}; allowed: {', '.join(allowed)}.",
            "policy.model",
            model=fallback.id,
            models=", ".join(allowed),
        )
    return fallback


def _resolution(spec: JobSpec, policy: Policy, model: Model) -> str:
    cap = policy.max_resolution
    asked = spec.resolution.upper()
    if cap is None:
        return asked
    fits = [r for r in model.resolutions if RESOLUTIONS.index(r) <= RESOLUTIONS.index(cap)]
    if asked:
        if asked in RESOLUTIONS and RESOLUTIONS.index(asked) > RESOLUTIONS.index(cap):
            raise _refuse(
                f"This server allows videos up to {cap}; pick {cap} or less.",
                "policy.resolution",
                resolution=asked,
                max=cap,
            )
        return asked
    if not fits:
        raise _refuse(
            f"{model.id} makes no video at {cap} or less, the most this server allows; "
            "pick another model.",
            "policy.no_resolution",
            model=model.id,
            max=cap,
        )
    default = model.default_resolution
    return default if default in fits else fits[-1]


def _duration(spec: JobSpec, policy: Policy, model: Model) -> int:
    cap = policy.max_duration
    if not cap:
        return spec.duration
    if spec.duration:
        if spec.duration > cap:
            raise _refuse(
                f"This server allows videos of up to {cap} s; pick {cap} s or less.",
                "policy.duration",
                duration=spec.duration,
                max=cap,
            )
        return spec.duration
    fits = [d for d in model.durations if d <= cap]
    if not fits:
        raise _refuse(
            f"{model.id} makes no video of {cap} s or less, the most this server allows; "
            "pick another model.",
            "policy.no_duration",
            model=model.id,
            max=cap,
        )
    return model.default_duration if model.default_duration in fits else fits[-1]


def _check_words(spec: JobSpec, policy: Policy) -> None:
    if not policy.blocked_words or not spec.prompt:
        return
    text = normalise_word(spec.prompt)
    for word in policy.blocked_words:
        if word in text:
            raise _refuse(
                f"Your prompt contains “{word}”, which this server does not allow. "
                "Rephrase it and try again.",
                "policy.blocked_word",
                Input.PROMPT,
                word=word,
            )
