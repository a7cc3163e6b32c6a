"""The command translator: command descriptions, option names and descriptions, and choices in
every language the catalogs speak, for Discord to show each user in theirs.

Command strings are ``locale_str``s carrying their catalog key (``cogs._words.ls``). discord.py
asks the translator for each string in each Discord locale while building the sync payload
(``name_localizations`` / ``description_localizations``); we answer for the locales that have
a catalog of their own (zh-CN) and leave every other locale to the English default. Command
and group names stay English everywhere, so they can be typed the same way in every language.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from core.i18n import ENGLISH, catalog, locale_of

_NAMES = frozenset({Where.command_name, Where.group_name})


class CatalogTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if key is None or context.location in _NAMES:
            return None
        lang = locale_of(locale.value)
        if lang == ENGLISH or locale.value.lower() != lang.lower():
            return None  # English is the default; zh-TW readers get English, not zh-CN
        return catalog(lang).get(str(key))
