"""``/animate-sync``: the owner's way to push command changes to Discord on demand.

A slash command rather than an ``@bot sync`` text command: text commands would need the
message intents, and the bot runs with the GUILDS intent only.
"""

from __future__ import annotations

from typing import Protocol

import discord
from discord import app_commands
from discord.ext import commands

from cogs._words import ls, say


class Syncing(Protocol):
    """What the command needs from the bot (``bot.bot.AnimateBot``)."""

    async def is_owner(self, user: discord.abc.User, /) -> bool: ...

    async def sync_commands(self, *, force: bool = False) -> list[str]: ...


class AdminCog(commands.Cog, name="Admin"):
    def __init__(self, bot: Syncing) -> None:
        self.bot = bot

    @app_commands.command(name="animate-sync", description=ls("cmd.animate-sync"))
    @app_commands.default_permissions(administrator=True)
    async def animate_sync(self, interaction: discord.Interaction) -> None:
        # defer first: is_owner() fetches the application info over HTTP on its first use
        await interaction.response.defer(ephemeral=True, thinking=True)
        locale = str(interaction.locale)
        if not await self.bot.is_owner(interaction.user):
            await interaction.followup.send(say(locale, "admin.not_owner"), ephemeral=True)
            return
        scopes = await self.bot.sync_commands(force=True)
        if scopes:
            text = say(locale, "admin.synced", scopes=", ".join(scopes))
        else:
            text = say(locale, "admin.sync_failed")
        await interaction.followup.send(text, ephemeral=True)
