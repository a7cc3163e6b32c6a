"""``/animate-config``: a server's settings, for its admins (Manage Server).

Subcommands take choices, Discord's channel and role pickers and autocomplete rather than free
text (the only free text is a word to block). Discord hides the group from members without
Manage Server by default; the facade refuses anyone else anyway (``Member.admin``), since a
server can grant commands more widely. Every answer is private and shows the settings after the
change, each with where it comes from.
"""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _inputs, _panels
from cogs._choices import model_choices
from cogs._words import ls, option_names, say
from core.app.controls import Edit, SettingsReport, add_item, remove_item, set_to
from core.app.service import AnimateService
from core.domain.catalog import Region
from core.domain.errors import AnimateError, Kind
from core.domain.guild_settings import normalise_word

Choice = app_commands.Choice


LIST_ACTIONS = [
    Choice(name=ls("choice.list.allow"), value="allow"),
    Choice(name=ls("choice.list.remove"), value="remove"),
    Choice(name=ls("choice.list.clear"), value="clear"),
]
MODEL_ACTIONS = [
    *LIST_ACTIONS,
    Choice(name=ls("choice.list.default"), value="default"),
    Choice(name=ls("choice.list.no_default"), value="no_default"),
]
WORD_ACTIONS = [
    Choice(name=ls("choice.words.add"), value="add"),
    Choice(name=ls("choice.words.remove"), value="remove"),
    Choice(name=ls("choice.words.clear"), value="clear"),
]
LIMITS = [
    Choice(name=ls("choice.limit.active_jobs"), value="active_jobs"),
    Choice(name=ls("choice.limit.daily_seconds"), value="daily_seconds"),
    Choice(name=ls("choice.limit.cooldown_seconds"), value="cooldown_seconds"),
    Choice(name=ls("choice.limit.monthly_budget"), value="monthly_budget"),
]
RESOLUTIONS = [
    *(Choice(name=r, value=r) for r in ("480P", "720P", "1080P")),
    Choice(name=ls("choice.res.any"), value="any"),
]


def list_edit(action: str, item: str | None, normalise: Callable[[str], str] = str) -> Edit:
    """The edit of a list setting: ``clear`` needs no item, the others do."""
    if action == "clear":
        return set_to(None)
    if item is None:
        raise AnimateError(
            "Pick what to add or remove (the second option), or choose to clear the list.",
            key="config.pick_item",
            kind=Kind.INVALID_INPUT,
        )
    return add_item(item) if action in ("allow", "add") else remove_item(item, normalise)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ConfigCog(
    commands.GroupCog,
    group_name="animate-config",
    group_description=ls("cmd.animate-config"),
):
    def __init__(self, bot: commands.Bot, service: AnimateService, region: Region) -> None:
        self.bot = bot
        self.service = service
        self.region = region
        super().__init__()

    async def _reply(self, interaction: discord.Interaction, report: SettingsReport) -> None:
        locale = str(interaction.locale)
        await interaction.followup.send(
            say(locale, "config.saved"),
            embed=_panels.settings_embed(report, locale),
            ephemeral=True,
        )

    async def _edit(
        self, interaction: discord.Interaction, name: str, edit: Edit, role: str | None = None
    ) -> SettingsReport:
        chat, member = _inputs.chat_ref(interaction), _inputs.member_of(interaction)
        return await self.service.configure(chat, member, name, edit, role=role)

    @app_commands.command(name="show", description=ls("cmd.animate-config.show"))
    async def show(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        chat, member = _inputs.chat_ref(interaction), _inputs.member_of(interaction)
        report = await self.service.settings(chat, member)
        embed = _panels.settings_embed(report, str(interaction.locale))
        await interaction.followup.send(embed=embed, ephemeral=True)

    @app_commands.command(name="channel", description=ls("cmd.animate-config.channel"))
    @app_commands.describe(
        action=ls("cmd.animate-config.channel.action"),
        channel=ls("cmd.animate-config.channel.channel"),
    )
    @option_names("action", "channel")
    @app_commands.choices(action=LIST_ACTIONS)
    async def channel(
        self,
        interaction: discord.Interaction,
        action: str,
        channel: discord.TextChannel | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        item = str(channel.id) if channel is not None else None
        await self._reply(
            interaction, await self._edit(interaction, "channels", list_edit(action, item))
        )

    @app_commands.command(name="role", description=ls("cmd.animate-config.role"))
    @app_commands.describe(
        action=ls("cmd.animate-config.role.action"), role=ls("cmd.animate-config.role.role")
    )
    @option_names("action", "role")
    @app_commands.choices(action=LIST_ACTIONS)
    async def role(
        self, interaction: discord.Interaction, action: str, role: discord.Role | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        item = str(role.id) if role is not None else None
        await self._reply(
            interaction, await self._edit(interaction, "roles", list_edit(action, item))
        )

    @app_commands.command(name="model", description=ls("cmd.animate-config.model"))
    @app_commands.describe(
        action=ls("cmd.animate-config.model.action"), model=ls("cmd.animate-config.model.model")
    )
    @option_names("action", "model")
    @app_commands.choices(action=MODEL_ACTIONS)
    async def model(
        self, interaction: discord.Interaction, action: str, model: str | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if action in ("default", "no_default"):
            value = model if action == "default" else None
            report = await self._edit(interaction, "default_model", set_to(value))
        else:
            report = await self._edit(interaction, "models", list_edit(action, model))
        await self._reply(interaction, report)

    @model.autocomplete("model")
    async def model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        return model_choices(self.region, current, str(interaction.locale), effect=None)

    @app_commands.command(name="limit", description=ls("cmd.animate-config.limit"))
    @app_commands.describe(
        limit=ls("cmd.animate-config.limit.limit"),
        value=ls("cmd.animate-config.limit.value"),
        role=ls("cmd.animate-config.limit.role"),
    )
    @option_names("limit", "value", "role")
    @app_commands.choices(limit=LIMITS)
    async def limit(
        self,
        interaction: discord.Interaction,
        limit: str,
        value: app_commands.Range[float, 0, 1_000_000_000] | None = None,
        role: discord.Role | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        amount: float | int | None = value
        if value is not None and limit != "monthly_budget" and float(value).is_integer():
            amount = int(value)  # the other limits are whole numbers (a fraction is refused)
        target = str(role.id) if role is not None else None
        report = await self._edit(interaction, limit, set_to(amount), role=target)
        await self._reply(interaction, report)

    @app_commands.command(name="media", description=ls("cmd.animate-config.media"))
    @app_commands.describe(
        max_resolution=ls("cmd.animate-config.media.max_resolution"),
        max_duration=ls("cmd.animate-config.media.max_duration"),
        sound=ls("cmd.animate-config.media.sound"),
        custom_audio=ls("cmd.animate-config.media.custom_audio"),
    )
    @option_names("max_resolution", "max_duration", "sound", "custom_audio")
    @app_commands.choices(max_resolution=RESOLUTIONS)
    async def media(
        self,
        interaction: discord.Interaction,
        max_resolution: str | None = None,
        max_duration: app_commands.Range[int, 0, 15] | None = None,
        sound: bool | None = None,
        custom_audio: bool | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        changes: dict[str, object | None] = {
            "max_resolution": None if max_resolution == "any" else max_resolution,
            "max_duration": max_duration or None,
            "sound": sound,
            "custom_audio": custom_audio,
        }
        given = {"max_resolution": max_resolution, "max_duration": max_duration,
                 "sound": sound, "custom_audio": custom_audio}  # fmt: skip
        report = None
        for name, value in changes.items():
            if given[name] is not None:
                # "allowed" is the default: storing True would only hide a later default
                stored = None if value is True else value
                report = await self._edit(interaction, name, set_to(stored))
        if report is None:
            chat, member = _inputs.chat_ref(interaction), _inputs.member_of(interaction)
            report = await self.service.settings(chat, member)
        await self._reply(interaction, report)

    @app_commands.command(name="blocklist", description=ls("cmd.animate-config.blocklist"))
    @app_commands.describe(
        action=ls("cmd.animate-config.blocklist.action"),
        word=ls("cmd.animate-config.blocklist.word"),
    )
    @option_names("action", "word")
    @app_commands.choices(action=WORD_ACTIONS)
    async def blocklist(
        self,
        interaction: discord.Interaction,
        action: str,
        word: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        edit = list_edit(action, word, normalise_word)
        await self._reply(interaction, await self._edit(interaction, "blocked_words", edit))

    @blocklist.autocomplete("word")
    async def word_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        if getattr(interaction.namespace, "action", None) != "remove":
            return []  # a new word is free text
        report = await self._report(interaction)
        if report is None:
            return []
        words = report.values["blocked_words"].value
        needle = normalise_word(current)
        found = [str(w) for w in words if needle in str(w)] if isinstance(words, tuple) else []
        return [Choice(name=w[:100], value=w) for w in found[:25]]

    @app_commands.command(name="reset", description=ls("cmd.animate-config.reset"))
    @app_commands.describe(setting=ls("cmd.animate-config.reset.setting"))
    @option_names("setting")
    async def reset(self, interaction: discord.Interaction, setting: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        name, _, role = setting.partition("@")
        report = await self._edit(interaction, name, set_to(None), role=role or None)
        await self._reply(interaction, report)

    @reset.autocomplete("setting")
    async def setting_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[Choice[str]]:
        """The settings this server has set (its own and per-role ones), by their names."""
        report = await self._report(interaction)
        if report is None:
            return []
        locale = str(interaction.locale)
        out: list[Choice[str]] = []
        for name, resolved in report.values.items():
            if resolved.source.value == "server":
                out.append(Choice(name=say(locale, _panels.LABELS[name]), value=name))
        for role, values in report.roles.items():
            guild = interaction.guild
            found = guild.get_role(int(role)) if guild is not None else None
            who = f"@{found.name}" if found is not None else f"@{role}"
            for name in values:
                label = f"{say(locale, _panels.LABELS[name])} ({who})"
                out.append(Choice(name=label[:100], value=f"{name}@{role}"))
        needle = current.strip().lower()
        return [c for c in out if needle in c.name.lower()][:25]

    async def _report(self, interaction: discord.Interaction) -> SettingsReport | None:
        """The settings for an autocomplete (nothing for those who may not see them)."""
        chat, member = _inputs.chat_ref(interaction), _inputs.member_of(interaction)
        if chat.guild is None or not member.admin:
            return None
        return await self.service.settings(chat, member)
