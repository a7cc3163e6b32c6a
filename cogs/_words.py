"""Saying things on Discord: catalog messages (``core.i18n``) in the reader's language, with
Discord's own forms for what a message names.

Message parameters arrive platform-neutral; here a ``datetime`` becomes a relative timestamp
(``<t:…:R>``, shown in each reader's time zone and language), ``Money`` its amount with the
currency sign, ``Refs`` channel or role mentions (the client default ``AllowedMentions.none()``
keeps them from pinging). Replies use the interaction's locale; background posts the locale
stored with the job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from discord import app_commands

from core.domain.combinations import MediaWords
from core.domain.errors import AnimateError
from core.domain.jobs import JobView
from core.domain.ledger import Money
from core.domain.policy import Refs
from core.i18n import ENGLISH, error_text, t

F = TypeVar("F", bound=Callable[..., Any])


def ls(key: str) -> app_commands.locale_str:
    """A command string: its English text now, the other languages through the translator."""
    return app_commands.locale_str(t(ENGLISH, key), key=key)


def N_(key: str) -> str:  # the gettext name for "a key used later"
    """Declares a catalog key chosen at run time (the catalog test collects these)."""
    return key


def option_names(*names: str) -> Callable[[F], F]:
    """Give options their display names in every language (``opt.<name>``; the English one
    is the option's own name, so nothing changes for code or for English readers)."""
    return app_commands.rename(**{n: ls(f"opt.{n}") for n in names})


def rel(when: datetime) -> str:
    """A Discord relative timestamp ("in 3 minutes"), rendered in each reader's time zone."""
    return f"<t:{int(when.timestamp())}:R>"


def media_words(locale: str | None, words: MediaWords) -> str:
    """Media combinations in the reader's language (``图片 + 尾帧图片；续写视频``)."""
    plus, sep = t(locale, "media.word.plus"), t(locale, "media.word.separator")
    return sep.join(
        plus.join(t(locale, f"media.word.{m.value}") for m in combo) or t(locale, "media.word.none")
        for combo in words.sets
    )


def show(value: object, locale: str | None = None) -> object:
    """One message parameter as Discord shows it (in ``locale`` where it has words)."""
    if isinstance(value, MediaWords):
        return media_words(locale, value)
    if isinstance(value, datetime):
        return rel(value)
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, Refs):
        form = "<#{}>" if value.kind == "channel" else "<@&{}>"
        return ", ".join(form.format(i) for i in value.ids)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 2)
    return value


def _shown(params: Mapping[str, object], locale: str | None) -> dict[str, object]:
    return {name: show(value, locale) for name, value in params.items()}


def say(locale: str | None, key: str, /, **params: object) -> str:
    """The catalog message ``key`` in ``locale``, its parameters in Discord's forms."""
    return t(locale, key, **_shown(params, locale))


def error_message(locale: str | None, error: AnimateError) -> str:
    """An error in the reader's language, from its key and parameters."""
    return error_text(locale, error.key, _shown(error.params, locale), error.message)


def job_error(locale: str | None, job: JobView) -> str:
    """Why a job ended, in the reader's language (its stored English if the key is gone)."""
    english = job.error_message or ""
    if not job.error_key:
        return english
    return error_text(locale, job.error_key, _shown(job.error_params, locale), english)


def seconds(locale: str | None, n: float | str) -> str:
    return say(locale, "unit.seconds", n=n)
