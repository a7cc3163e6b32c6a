"""Delivery: the engine's ``DeliveryPort`` for Discord, and the loop that drives the engine.

Results go out with the bot token (``get_partial_messageable``), never the 15-minute
interaction token, so they arrive however long the video takes and after restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import discord
from discord.ext import commands, tasks

from cogs import _render
from cogs._service import Service
from cogs.buttons import failure_view, result_view, status_view
from core.jobs import JobStatus, JobView
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


class DiscordDelivery:
    """Implements ``core.ports.DeliveryPort``."""

    def __init__(self, bot: commands.Bot, service: Service) -> None:
        self.bot = bot
        self.service = service

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
        embed = _render.status_embed(job, thumbnail=thumb)
        if result_url:
            embed.add_field(name="Result", value=f"[open]({result_url})", inline=False)
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
                        embed=_render.result_embed(job),
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
                embed=_render.result_embed(job, link_note=_render.link_note(job)),
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
                embed=_render.failure_embed(job),
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
                if any(_render.marked_job(e.footer.text) == job.id for e in message.embeds):
                    return str(message.id)
        except discord.HTTPException as exc:
            raise delivery_error(exc) from exc
        return None


class DeliveryCog(commands.Cog, name="Delivery"):
    """Runs one engine pass every ``interval`` seconds; one bad pass never stops the loop."""

    def __init__(
        self,
        bot: commands.Bot,
        service: Service,
        *,
        interval: float = 5.0,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.bot = bot
        self.service = service
        self.port = DiscordDelivery(bot, service)
        self.heartbeat = heartbeat
        self.last_pass: datetime | None = None
        #: set once recovery and the first pass are done (readiness)
        self.started = asyncio.Event()
        self.ticker.change_interval(seconds=interval)

    async def cog_load(self) -> None:
        self.ticker.start()

    async def cog_unload(self) -> None:
        self.ticker.cancel()

    @tasks.loop(seconds=5.0)
    async def ticker(self) -> None:
        await self.run_once()
        if not self.started.is_set():
            log.info("delivery loop running (every %.0f s)", self.ticker.seconds or 0)
            self.started.set()

    @ticker.before_loop
    async def _before(self) -> None:
        await self.bot.wait_until_ready()
        try:
            await self.service.recover()
        except Exception:
            log.exception("recovery failed; the loop will still pick up due jobs")

    async def run_once(self, now: datetime | None = None) -> int:
        """One engine pass and one delivery pass; returns the delivery actions taken.

        The heartbeat (what the container health check reads) is touched only when both
        passes worked: a loop that runs but fails every pass (database gone, a bug) must
        look unhealthy, not alive.
        """
        actions = 0
        ok = True
        try:
            await self.service.poll_once(now)
        except Exception:
            ok = False
            log.exception("engine pass failed")
        try:
            actions = await self.service.deliver_once(self.port, now)
        except Exception:
            ok = False
            log.exception("delivery pass failed")
        self.last_pass = discord.utils.utcnow()
        if ok and self.heartbeat is not None:
            try:
                self.heartbeat()
            except OSError:
                log.exception("could not write the heartbeat")
        return actions
