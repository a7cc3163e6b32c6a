"""``/animate-usage``: what the requester has used and has left; for a server's admins, also
the server's spending this month against its budget, its top users and models.

Every number comes from the ledger (the job rows), so it is what the limits count.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _inputs, _panels
from cogs._words import ls
from core.app.service import AnimateService


class UsageCog(commands.Cog, name="Usage"):
    def __init__(self, bot: commands.Bot, service: AnimateService) -> None:
        self.bot = bot
        self.service = service

    @app_commands.command(name="animate-usage", description=ls("cmd.animate-usage"))
    async def animate_usage(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        member = _inputs.member_of(interaction)
        report = await self.service.usage(
            _inputs.chat_ref(interaction), member, server=member.admin
        )
        embed = _panels.usage_embed(report, str(interaction.locale))
        await interaction.followup.send(embed=embed, ephemeral=True)
