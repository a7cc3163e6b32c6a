"""The Discord ``DeliveryPort``: status edits, results and failure notices, posted by the bot.

The engine's worker calls it through the ``DeliveryRouter`` (``bot.bot`` registers it for the
"discord" platform once the client is ready); it never calls back into the core. Results go out
with the bot token (``get_partial_messageable``), never the 15-minute interaction token, so they
arrive however long the video takes and after restarts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import discord
from discord.ext import commands

from cogs import _embeds
from cogs._words import say
from cogs.buttons import failure_view, result_view, status_view
from core.domain.jobs import JobStatus, JobView
from core.ports import DeliveryError

log = logging.getLogger(__name__)
DM_LIMIT = discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES  # 10 MiB
HISTORY_SCAN = 50


def delivery_error(exc: discord.HTTPException) -> DeliveryError:
    """403 / 404 (no permission, channel or thread gone) are permanent; 429 / 5xx are not."""
    reason = f"Discord {exc.status} (code {exc.code}): {exc.text}"
    if exc.status == 429 or exc.status >= 500:
        return DeliveryError(reason, permanent=False)
    return DeliveryError(reason, permanent=True)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


class DiscordPort:
    """Implements ``core.ports.DeliveryPort`` for Discord."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    def _target(self, job: JobView) -> discord.PartialMessageable:
        guild = int(job.chat.guild) if job.chat.guild else None
        return self.bot.get_partial_messageable(
            int(job.chat.thread or job.chat.channel), guild_id=guild
        )

    def _mentions(self, job: JobView) -> discord.AllowedMentions:
        # only the requester, and only on this message (the client default stays none())
        return discord.AllowedMentions(
            everyone=False,
            roles=False,
            replied_user=False,
            users=[discord.Object(int(job.chat.user))],
        )

    async def upload_limit(self, job: JobView) -> int:
        """The guild's file limit (10 MiB in DMs), or 0 where we may not attach files: the
        engine fits the video under it before ``post_result`` (or posts the link)."""
        if not self.can_attach(job):
            return 0
        guild = self.bot.get_guild(int(job.chat.guild)) if job.chat.guild else None
        return guild.filesize_limit if guild is not None else DM_LIMIT

    def can_attach(self, job: JobView) -> bool:
        """False when the cache says we may not attach files there (unknown → try)."""
        guild = self.bot.get_guild(int(job.chat.guild)) if job.chat.guild else None
        if guild is None:
            return True
        channel = guild.get_channel_or_thread(int(job.chat.thread or job.chat.channel))
        if channel is None:
            channel = guild.get_channel(int(job.chat.channel))
        if channel is None:
            return True
        return channel.permissions_for(guild.me).attach_files

    async def post_progress(self, job: JobView) -> None:
        try:
            await self._edit_status(job)
        except discord.HTTPException as exc:
            err = delivery_error(exc)
            if not err.permanent:
                raise err from exc
            # the status message is cosmetic: a deleted one must not fail the job
            log.info("job %s: status message not editable (%s)", job.id, exc)

    async def _edit_status(self, job: JobView, *, result_url: str | None = None) -> None:
        if not job.chat.status_message:
            return
        channel = self.bot.get_partial_messageable(int(job.chat.channel))
        message: discord.Message | discord.PartialMessage
        thumb = None
        try:
            # fetched so the input thumbnail (an attachment of this message) stays in the embed
            message = await channel.fetch_message(int(job.chat.status_message))
            if message.attachments:
                thumb = f"attachment://{message.attachments[0].filename}"
        except discord.Forbidden:  # no Read Message History: edit blind, without the thumbnail
            message = channel.get_partial_message(int(job.chat.status_message))
        embed = _embeds.status_embed(job, thumbnail=thumb)
        if result_url:
            loc = job.chat.locale
            embed.add_field(
                name=say(loc, "field.result"),
                value=say(loc, "result.open", url=result_url),
                inline=False,
            )
        await message.edit(
            embed=embed,
            view=status_view(job),
            # Message.edit from a fetched message does not always merge the client default
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _finish_status(self, job: JobView, posted_id: str, *, ok: bool) -> None:
        """After the outcome is posted, show the final state on the status message (best effort)."""
        final = replace(job, status=JobStatus.DELIVERED) if ok else job
        where = job.chat.thread or job.chat.channel
        url = f"https://discord.com/channels/{job.chat.guild or '@me'}/{where}/{posted_id}"
        try:
            await self._edit_status(final, result_url=url)
        except Exception as exc:  # noqa: BLE001 - cosmetic; must never undo a post that happened
            log.info("job %s: final status edit skipped (%s)", job.id, exc)

    async def post_result(self, job: JobView) -> str:
        """The file the engine chose (``job.video_path``, already under ``upload_limit``), or
        the link with its expiry when it gave none or Discord refuses the file after all."""
        target = self._target(job)
        content = f"<@{job.chat.user}>"
        path = Path(job.video_path) if job.video_path else None
        if path is not None and await asyncio.to_thread(_size, path) is None:
            path = None
        try:
            if path is not None:
                try:
                    message = await target.send(
                        content,
                        embed=_embeds.result_embed(job),
                        file=discord.File(path, filename=f"animate-{job.id}.mp4"),
                        view=result_view(job),
                        allowed_mentions=self._mentions(job),
                    )
                    await self._finish_status(job, str(message.id), ok=True)
                    return str(message.id)
                except discord.HTTPException as exc:
                    # 50013: may not attach files here; 413: over the limit after all (the
                    # cached limit was stale); either way the link still reaches the user
                    if not (exc.status == 413 or (exc.status == 403 and exc.code == 50013)):
                        raise
                    log.info("job %s: file refused (%s), posting the link", job.id, exc.status)
            message = await target.send(
                content,
                embed=_embeds.result_embed(job, link_note=_embeds.link_note(job)),
                view=result_view(job),
                allowed_mentions=self._mentions(job),
            )
        except discord.HTTPException as exc:
            raise delivery_error(exc) from exc
        await self._finish_status(job, str(message.id), ok=True)
        return str(message.id)

    async def post_failure(self, job: JobView) -> str:
        try:
            message = await self._target(job).send(
                f"<@{job.chat.user}>",
                embed=_embeds.failure_embed(job),
                view=failure_view(job),
                allowed_mentions=self._mentions(job),
            )
        except discord.HTTPException as exc:
            raise delivery_error(exc) from exc
        await self._finish_status(job, str(message.id), ok=False)
        return str(message.id)

    async def find_posted(self, job: JobView) -> str | None:
        me = self.bot.user
        try:
            async for message in self._target(job).history(limit=HISTORY_SCAN):
                if me is not None and message.author.id != me.id:
                    continue
                if any(_embeds.marked_job(e.footer.text) == job.id for e in message.embeds):
                    return str(message.id)
        except discord.HTTPException as exc:
            raise delivery_error(exc) from exc
        return None
