"""``/animate-sync``: the owner's way to push command changes to Discord on demand.

A slash command rather than an ``@bot sync`` text command: text commands would need the
message intents, and the bot runs with the GUILDS intent only.
"""

from __future__ import annotations

from typing import Protocol

import discord
from discord import app_commands
from discord.ext import commands


class Syncing(Protocol):
    """What the command needs from the bot (``bot.bot.AnimateBot``)."""

    async def is_owner(self, user: discord.abc.User, /) -> bool: ...

    async def sync_commands(self, *, force: bool = False) -> list[str]: ...


class AdminCog(commands.Cog, name="Admin"):
    def __init__(self, bot: Syncing) -> None:
        self.bot = bot

    @app_commands.command(name="animate-sync", description="Owner only: sync the bot's commands")
    @app_commands.default_permissions(administrator=True)
    async def animate_sync(self, interaction: discord.Interaction) -> None:
        # defer first: is_owner() fetches the application info over HTTP on its first use
        await interaction.response.defer(ephemeral=True, thinking=True)
        if not await self.bot.is_owner(interaction.user):
            raise app_commands.CheckFailure("Only the bot's owner can sync its commands.")
        scopes = await self.bot.sync_commands(force=True)
        text = f"Synced: {', '.join(scopes)}." if scopes else "Sync failed; see the bot's log."
        await interaction.followup.send(text, ephemeral=True)
