"""Every word the bot says, in en-US and zh-CN: one message catalog per language.

Catalogs are flat JSON objects in ``core/locales/<locale>.json`` (keys sorted, so additions from
different changes land in different places), keyed like the errors (``AnimateError.key``) plus
front-end keys (``status.queued``, ``button.cancel``, ``cmd.animate.description`` …). Values are
``str.format`` templates whose ``{name}`` fields come from the error's ``params`` or the caller.

A locale is chosen per message: the interaction's locale for replies, the locale stored with the
job (``ChatRef.locale``) for background messages. Only zh-CN has its own catalog today; every
other locale falls back to English (zh-TW readers get English rather than the wrong script).
Front-ends call :func:`t`; nothing else reads the catalogs.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

ENGLISH = "en-US"
CHINESE = "zh-CN"
LOCALES: tuple[str, ...] = (ENGLISH, CHINESE)
#: what platforms send → our catalog (Discord sends "zh-CN"; Slack and browsers vary the case)
_ALIASES = {"zh-cn": CHINESE, "zh_cn": CHINESE, "zh-hans": CHINESE, "zh-hans-cn": CHINESE}


def locale_of(raw: str | None) -> str:
    """The catalog for a platform's locale string; anything we do not speak → English."""
    key = (raw or "").strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    return next((loc for loc in LOCALES if loc.lower() == key), ENGLISH)


@cache
def catalog(locale: str) -> Mapping[str, str]:
    """The messages of one catalog locale (loaded once)."""
    text = resources.files("core.locales").joinpath(f"{locale}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"core/locales/{locale}.json must map keys to strings")
    return data


def has(key: str) -> bool:
    return key in catalog(ENGLISH)


def fields(template: str) -> frozenset[str]:
    """The ``{name}`` placeholders of a template (for the catalog consistency test)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def t(locale: str | None, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``locale`` (English when that catalog lacks it), filled in.

    A missing key is a bug the catalog test catches; at run time it raises ``KeyError`` rather
    than showing a user a raw key. A missing parameter shows as ``{name}`` instead of failing a
    post: a wrong message is better than no message.
    """
    loc = locale_of(locale)
    template = catalog(loc).get(key)
    if template is None:
        template = catalog(ENGLISH)[key]
    return template.format_map(_Lenient(params))


def error_text(locale: str | None, key: str, params: Mapping[str, Any], english: str) -> str:
    """An error rendered from its key and parameters; its stored English text if the key is
    not in the catalogs (an error raised by an older version of the bot, say)."""
    if not has(key):
        return english
    return t(locale, key, **dict(params))


class _Lenient(dict[str, Any]):
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"
