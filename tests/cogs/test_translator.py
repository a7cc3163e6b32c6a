"""The command translator answers for zh-CN only, never for names, only for catalog strings."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContext
from discord.app_commands import TranslationContextLocation as Where

from cogs._words import ls
from cogs.translator import CatalogTranslator


async def _noop(interaction: discord.Interaction) -> None:
    return None


async def test_only_catalog_strings_in_catalog_languages_are_translated() -> None:
    tr = CatalogTranslator()
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name="animate", description=ls("cmd.animate"), callback=_noop
    )
    about: app_commands.TranslationContextTypes = TranslationContext(
        location=Where.command_description, data=command
    )
    name: app_commands.TranslationContextTypes = TranslationContext(
        location=Where.command_name, data=command
    )
    option: app_commands.TranslationContextTypes = TranslationContext(
        location=Where.other, data=None
    )
    text = ls("cmd.animate")
    assert await tr.translate(text, discord.Locale.chinese, about) == "把一张图片变成短视频"
    assert await tr.translate(text, discord.Locale.american_english, about) is None
    assert await tr.translate(text, discord.Locale.taiwan_chinese, about) is None
    assert await tr.translate(text, discord.Locale.french, about) is None
    assert await tr.translate(text, discord.Locale.chinese, name) is None  # names stay English
    plain = app_commands.locale_str("no key here")
    assert await tr.translate(plain, discord.Locale.chinese, about) is None
    assert await tr.translate(ls("opt.prompt"), discord.Locale.chinese, option) == "提示词"
