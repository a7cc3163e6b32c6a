"""Restart-proof buttons: the job id lives in ``custom_id`` and each click is rebuilt from it.

Registered with ``bot.add_dynamic_items`` in ``setup_hook``, so buttons on messages posted by an
earlier process keep working (reference §A.6). No state lives in memory.

A ``custom_id`` only names a job by number, so it is not trusted on its own: a click acts on a
job only when it comes from one of that job's own public messages (its status message, or the
posted result or failure notice) in the job's guild. Numbers are not forever (after the
database is reset or restored, old buttons name whichever new job got that number, maybe in
another server, where a moderator could cancel it or spend money regenerating it), and the
adapter should not rely on discord.py dropping clicks whose id is not on the message. The
private copies ("Show again", /animate-jobs) carry no buttons: actions live on public messages.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from cogs import _embeds, _inputs
from cogs._extend_form import ExtendForm, submitted, total
from cogs._words import N_, say
from cogs.boundary import report_error
from cogs.history import show_again
from core.app.extend import extendable
from core.app.service import AnimateService
from core.domain.jobs import JobView

log = logging.getLogger(__name__)


def service_of(interaction: discord.Interaction) -> AnimateService:
    """The facade, from the client that received the click (``bot.bot.AnimateBot.service``)."""
    service = getattr(interaction.client, "service", None)
    if not isinstance(service, AnimateService):
        raise RuntimeError("the client carries no AnimateService")
    return service


async def job_for_click(
    interaction: discord.Interaction, job_id: int, acting: str | None = None
) -> JobView:
    """The clicked job, if the click came from one of its public messages in its guild
    (``core.app.click_origin``); ``acting`` names what only the requester may do."""
    guild = str(interaction.guild_id) if interaction.guild_id else None
    return await service_of(interaction).clicked(
        job_id,
        here=lambda chat: guild == chat.guild,
        message=str(interaction.message.id) if interaction.message is not None else None,
        user=str(interaction.user.id),
        moderator=interaction.permissions.manage_messages,
        action=acting,
    )


class _JobButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"animate:_base:(?P<job>[0-9]+)",  # never registered; subclasses set their own
):
    action = ""
    label = ""  # a catalog key
    style = discord.ButtonStyle.secondary

    def __init__(self, job_id: int, locale: str | None = None) -> None:
        # the label is for the message it is posted on (the job's language); a click is
        # rebuilt from the custom_id alone, where the label plays no part
        super().__init__(
            discord.ui.Button(
                label=say(locale, self.label),
                style=self.style,
                custom_id=f"animate:{self.action}:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> _JobButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as exc:  # noqa: BLE001 - the error boundary for buttons
            await report_error(interaction, exc)

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class CancelButton(_JobButton, template=r"animate:cancel:(?P<job>[0-9]+)"):
    action, label, style = "cancel", N_("button.cancel"), discord.ButtonStyle.danger

    async def run(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await job_for_click(interaction, self.job_id, acting="cancel")
        perms = interaction.permissions
        job = await service_of(interaction).cancel(
            self.job_id, user=str(interaction.user.id), moderator=perms.manage_messages
        )
        log.info("job %s canceled by %s", job.id, interaction.user.id)
        text = say(str(interaction.locale), "cancel.done", job=job.id)
        await interaction.followup.send(text, ephemeral=True)


class RegenerateButton(_JobButton, template=r"animate:regen:(?P<job>[0-9]+)"):
    action, label, style = "regen", N_("button.regenerate"), discord.ButtonStyle.primary

    async def run(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await job_for_click(interaction, self.job_id, acting="regenerate")
        service = service_of(interaction)
        _inputs.check_can_deliver(interaction)
        job = await service.regenerate(
            self.job_id,
            user=str(interaction.user.id),
            chat=_inputs.chat_ref(interaction),
            moderator=interaction.permissions.manage_messages,
            member=_inputs.member_of(interaction),
        )
        log.info("job %s regenerated as %s by %s", self.job_id, job.id, interaction.user.id)
        await publish(interaction, service, job)


class ShowAgainButton(_JobButton, template=r"animate:show:(?P<job>[0-9]+)"):
    action, label = "show", N_("button.show_again")

    async def run(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await job_for_click(interaction, self.job_id)
        await show_again(interaction, service_of(interaction), self.job_id)


class ExtendButton(_JobButton, template=r"animate:extend:(?P<job>[0-9]+)"):
    """Continue the delivered video (wan2.7 ``first_clip``): a form asks for the prompt and
    the total length; the continuation is posted in the same thread."""

    action, label = "extend", N_("button.extend")

    async def run(self, interaction: discord.Interaction) -> None:
        # a form must be the first answer: only quick reads (the job row) before it
        await job_for_click(interaction, self.job_id, acting="extend")
        durations = await service_of(interaction).extend_options(
            self.job_id,
            user=str(interaction.user.id),
            moderator=interaction.permissions.manage_messages,
        )
        form = ExtendForm(self.job_id, durations, str(interaction.locale))
        await interaction.response.send_modal(form)


async def answer_extend_form(interaction: discord.Interaction) -> bool:
    """Answer a filled-in Extend form (also one opened before a restart); False when the
    interaction is something else. The totals are worked out again from the job."""
    form = submitted(interaction)
    if form is None:
        return False
    job_id, prompt, typed = form
    try:
        durations = await service_of(interaction).extend_options(
            job_id,
            user=str(interaction.user.id),
            moderator=interaction.permissions.manage_messages,
        )
        await extend_job(interaction, job_id, prompt, total(typed, durations))
    except Exception as exc:  # noqa: BLE001 - the error boundary for the form
        await report_error(interaction, exc)
    return True


async def extend_job(
    interaction: discord.Interaction, job_id: int, prompt: str, total: int
) -> None:
    """The form was filled in: continue the video and post the new status in this thread."""
    await interaction.response.defer(thinking=True)
    _inputs.check_can_deliver(interaction)
    service = service_of(interaction)
    job = await service.extend(
        job_id,
        prompt=prompt,
        duration=total,
        user=str(interaction.user.id),
        chat=_inputs.chat_ref(interaction),
        moderator=interaction.permissions.manage_messages,
        member=_inputs.member_of(interaction),
    )
    log.info("job %s extended as %s by %s", job_id, job.id, interaction.user.id)
    await publish(interaction, service, job)


async def publish(
    interaction: discord.Interaction,
    service: AnimateService,
    job: JobView,
    thumbnail: _inputs.Thumbnail | None = None,
    *,
    note: str | None = None,
) -> None:
    """Turn the deferred reply into the status message; open a thread on it if allowed.
    ``note``: a line above it that stays (edits change the embed only), e.g. which model an
    end image was sent to.

    The job is already recorded, so a Discord hiccup here is logged, not shown as a failure:
    the delivery loop still posts the result in the channel.
    """
    embed = _embeds.status_embed(job, thumbnail=thumbnail.url if thumbnail else None)
    files = [thumbnail.file()] if thumbnail else []
    try:
        message = await interaction.edit_original_response(
            content=note, embed=embed, attachments=files, view=status_view(job)
        )
    except discord.HTTPException:
        log.exception("job %s: could not post its status message", job.id)
        return
    place = str(interaction.channel_id)
    if _inputs.can_open_thread(interaction):
        # plain text: thread names render no markdown and never ping
        name = " ".join((job.spec.prompt or job.spec.template or "video").split())[:80]
        try:
            thread = await message.create_thread(name=f"#{job.id} {name}"[:100])
            place = str(thread.id)
        except discord.HTTPException as exc:
            log.warning("job %s: no thread (%s); posting in place", job.id, exc)
    try:
        await service.attach_chat(job.id, thread=place, status_message=str(message.id), shown=job)
    except Exception:
        log.exception("job %s: could not record its status message", job.id)


BUTTONS: tuple[type[_JobButton], ...] = (
    CancelButton,
    RegenerateButton,
    ShowAgainButton,
    ExtendButton,
)


def status_view(job: JobView) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if job.status.active:
        view.add_item(CancelButton(job.id, job.chat.locale))
    return view


def result_view(job: JobView) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RegenerateButton(job.id, job.chat.locale))
    view.add_item(ShowAgainButton(job.id, job.chat.locale))
    if extendable(job):
        view.add_item(ExtendButton(job.id, job.chat.locale))
    return view


def failure_view(job: JobView) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RegenerateButton(job.id, job.chat.locale))
    return view
