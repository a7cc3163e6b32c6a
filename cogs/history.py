"""``/animate-jobs``: the requester's recent jobs, and showing one result again."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _embeds
from cogs._words import ls, option_names
from core.app.service import AnimateService
from core.domain.errors import AnimateError, Kind

log = logging.getLogger(__name__)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


async def show_again(
    interaction: discord.Interaction, service: AnimateService, job_id: int
) -> None:
    """Re-post a job's result privately (the file if it fits this reply, else the link)."""
    job = await service.get(job_id)
    here = str(interaction.channel_id)
    visible = job is not None and (
        job.chat.user == str(interaction.user.id) or here in (job.chat.channel, job.chat.thread)
    )
    if job is None or not visible:
        # ids are consecutive: others' jobs are shown only where they were posted publicly
        raise AnimateError(
            f"There is no job #{job_id}.",
            key="job.not_found",
            params={"job": job_id},
            kind=Kind.NOT_FOUND,
        )
    path = Path(job.video_path) if job.video_path else None
    size = await asyncio.to_thread(_size, path) if path is not None else None
    if path is None or size is None:
        if job.video_url:
            embed = _embeds.result_embed(job, link_note=_embeds.link_note(job))
        elif job.status.active:
            embed = _embeds.status_embed(job)
        else:
            embed = _embeds.failure_embed(job) if job.error_message else _embeds.status_embed(job)
        await interaction.followup.send(embed=embed, ephemeral=True)
        return
    if size > interaction.filesize_limit:
        embed = _embeds.result_embed(job, link_note=_embeds.link_note(job))
        await interaction.followup.send(embed=embed, ephemeral=True)
        return
    await interaction.followup.send(
        embed=_embeds.result_embed(job),
        file=discord.File(path, filename=f"animate-{job.id}.mp4"),
        ephemeral=True,
    )


class JobsCog(commands.Cog, name="Jobs"):
    def __init__(self, bot: commands.Bot, service: AnimateService) -> None:
        self.bot = bot
        self.service = service

    @app_commands.command(name="animate-jobs", description=ls("cmd.animate-jobs"))
    @app_commands.describe(job=ls("cmd.animate-jobs.job"))
    @option_names("job")
    async def animate_jobs(
        self, interaction: discord.Interaction, job: app_commands.Range[int, 1] | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if job is not None:
            await show_again(interaction, self.service, job)
            return
        jobs = await self.service.recent(platform="discord", user=str(interaction.user.id))
        embed = _embeds.jobs_list(jobs, str(interaction.locale))
        await interaction.followup.send(embed=embed, ephemeral=True)
