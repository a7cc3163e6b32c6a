"""The ``CommandTree`` subclass: the error boundary of every slash and context-menu command."""

from __future__ import annotations

import discord
from discord import app_commands

from cogs.boundary import report_error


class AnimateTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        """A short user-safe reply (ephemeral); the full context goes to the log."""
        await report_error(interaction, error)
