"""Server settings, the pure part: what a server can set, and the value that applies.

Every setting has a built-in default; the four limits also take an operator-wide default from the
environment (``LIMIT_*``, handed in as ``OperatorDefaults``); a server's admins can set any of them
for their server, and the user limits also per role. Stored rows are ``(scope, name, value)`` with
a JSON value, ``scope`` being ``""`` for the server itself or a role id (``core.ports.JobStore``
keeps them per platform and guild, so every front-end gets the same policy through the facade).

A value that applies is resolved as: role override (the most generous of the member's roles) →
this server → operator → built-in default, and each resolved value says where it came from, so
``/animate-config show`` can tell an admin why a limit is what it is.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from core.domain.catalog import find_model

#: the video resolutions in increasing order (a maximum allows itself and everything below)
RESOLUTIONS = ("480P", "720P", "1080P")
#: the most items a list setting keeps (channels, roles, models, blocked words)
MAX_ITEMS = 100
MAX_WORD = 100
#: the largest number a limit takes (anything above is "no limit" in practice)
MAX_WHOLE = 10_000_000
MAX_MONEY = 1_000_000_000.0


class Source(StrEnum):
    DEFAULT = "default"  # built into the bot
    OPERATOR = "operator"  # the bot owner's environment (LIMIT_*)
    SERVER = "server"  # this server's admins
    ROLE = "role"  # a per-role override of one of the member's roles


class Type(StrEnum):
    IDS = "ids"  # channel or role ids
    MODELS = "models"  # catalog model ids
    MODEL = "model"
    RESOLUTION = "resolution"
    WHOLE = "whole"  # a whole number ≥ 0; 0 = no limit
    MONEY = "money"  # an amount ≥ 0 in the region's currency; 0 = no limit
    FLAG = "flag"
    WORDS = "words"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: Type
    default: object
    #: may be set per role (the user limits)
    per_role: bool = False


#: Everything a server can set, in the order ``/animate-config show`` lists it.
SETTINGS: Mapping[str, Setting] = MappingProxyType(
    {
        s.name: s
        for s in (
            Setting("channels", Type.IDS, ()),
            Setting("roles", Type.IDS, ()),
            Setting("default_model", Type.MODEL, None),
            Setting("models", Type.MODELS, ()),
            Setting("max_resolution", Type.RESOLUTION, None),
            Setting("max_duration", Type.WHOLE, 0),
            Setting("sound", Type.FLAG, True),
            Setting("custom_audio", Type.FLAG, True),
            Setting("active_jobs", Type.WHOLE, 0, per_role=True),
            Setting("daily_seconds", Type.WHOLE, 0, per_role=True),
            Setting("cooldown_seconds", Type.WHOLE, 0, per_role=True),
            Setting("monthly_budget", Type.MONEY, 0.0),
            Setting("blocked_words", Type.WORDS, ()),
        )
    }
)
#: the limits an operator sets in the environment
LIMITS = ("active_jobs", "daily_seconds", "cooldown_seconds", "monthly_budget")
ROLE_LIMITS = tuple(s.name for s in SETTINGS.values() if s.per_role)


class SettingError(ValueError):
    """A value that does not fit its setting (the facade turns it into a refusal)."""


@dataclass(frozen=True, slots=True)
class StoredSetting:
    """One row: ``scope`` is ``""`` (the server) or a role id."""

    scope: str
    name: str
    value: object  # JSON: a number, a bool, a string or a list of strings
    updated_at: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True, slots=True)
class OperatorDefaults:
    """The operator's defaults for every server (``LIMIT_*``; 0 = no limit)."""

    active_jobs: int = 0
    daily_seconds: int = 0
    cooldown_seconds: int = 0
    monthly_budget: float = 0.0

    def value(self, name: str) -> object:
        return getattr(self, name)


def normalise_word(word: str) -> str:
    """How blocked words and prompts are compared: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", word).casefold().split())


def parse(name: str, value: object) -> object:
    """``value`` checked and normalised for setting ``name``; ``SettingError`` if it does not
    fit."""
    setting = SETTINGS.get(name)
    if setting is None:
        raise SettingError(f"unknown setting {name!r}")
    kind = setting.type
    if kind is Type.FLAG:
        if not isinstance(value, bool):
            raise SettingError(f"{name} is yes or no")
        return value
    if kind is Type.WHOLE:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WHOLE:
            raise SettingError(f"{name} is a whole number from 0 to {MAX_WHOLE}")
        return value
    if kind is Type.MONEY:
        amount = float(value) if isinstance(value, int | float) and value is not True else -1.0
        if value is False or not (math.isfinite(amount) and 0 <= amount <= MAX_MONEY):
            raise SettingError(f"{name} is an amount from 0 to {MAX_MONEY:g}")
        return round(amount, 4)
    if kind is Type.RESOLUTION:
        if value not in RESOLUTIONS:
            raise SettingError(f"{name} is one of {', '.join(RESOLUTIONS)}")
        return value
    if kind is Type.MODEL:
        return _model(name, value)
    items = _strings(name, value)
    if kind is Type.MODELS:
        return tuple(dict.fromkeys(str(_model(name, v)) for v in items))
    if kind is Type.IDS:
        if not all(v.isascii() and v.isdigit() for v in items):
            raise SettingError(f"{name} holds ids")
        return tuple(dict.fromkeys(items))
    words = tuple(dict.fromkeys(normalise_word(v) for v in items))
    if any(not w or len(w) > MAX_WORD for w in words):
        raise SettingError(f"{name} holds words of 1 to {MAX_WORD} characters")
    return words


def _model(name: str, value: object) -> str:
    model = find_model(value) if isinstance(value, str) else None
    if model is None:
        raise SettingError(f"{name}: unknown model {value!r}")
    return model.id


def _strings(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SettingError(f"{name} is a list")
    if len(value) > MAX_ITEMS:
        raise SettingError(f"{name} keeps at most {MAX_ITEMS} entries")
    return tuple(str(v) for v in value)


def to_json(value: object) -> object:
    """A parsed value as JSON (tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class Resolved:
    """One value that applies, and where it came from (``role``: the role id it came from)."""

    value: object
    source: Source
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """A server's stored settings, checked (a row that no longer fits is left out)."""

    server: Mapping[str, object] = field(default_factory=dict)
    #: role id → setting name → value (user limits only)
    roles: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[StoredSetting]) -> ServerSettings:
        server: dict[str, object] = {}
        roles: dict[str, dict[str, object]] = {}
        for row in rows:
            try:
                value = parse(row.name, row.value)
            except SettingError:
                continue  # e.g. a model a newer catalog dropped: the default applies again
            if row.scope == "":
                server[row.name] = value
            elif row.name in ROLE_LIMITS:
                roles.setdefault(row.scope, {})[row.name] = value
        return cls(server, roles)

    def resolve(
        self, name: str, operator: OperatorDefaults, member_roles: Iterable[str] = ()
    ) -> Resolved:
        setting = SETTINGS[name]
        if setting.per_role:
            best = _most_generous(name, self.roles, member_roles)
            if best is not None:
                return best
        if name in self.server:
            return Resolved(self.server[name], Source.SERVER)
        if name in LIMITS:
            value = operator.value(name)
            if value:
                return Resolved(value, Source.OPERATOR)
        return Resolved(setting.default, Source.DEFAULT)


def _most_generous(
    name: str, roles: Mapping[str, Mapping[str, object]], member_roles: Iterable[str]
) -> Resolved | None:
    """Of the member's roles with an override of ``name``, the one that allows the most: no
    limit (0) beats any number, a larger allowance beats a smaller one, a shorter cooldown beats
    a longer one."""
    found = [(r, roles[r][name]) for r in sorted(set(member_roles)) if name in roles.get(r, {})]
    if not found:
        return None

    def rank(item: tuple[str, object]) -> float:
        value = item[1]
        if not isinstance(value, int) or value == 0:
            return math.inf
        return -value if name == "cooldown_seconds" else value

    role, value = max(found, key=rank)
    return Resolved(value, Source.ROLE, role)
