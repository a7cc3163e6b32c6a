"""``/animate``, ``/animate-effect`` and the "Animate this image" message command.

Each one defers within Discord's 3 s window before any I/O, lets the facade check the request
against the server's policy, quotas and the rules (nothing is read or spent on a refusal), reads
the attachment at once (its URL is ephemeral), submits, then turns the "thinking…" reply into the
public status message and opens a thread on it where it can. Command texts come from the
catalogs (``ls``); Discord shows them in each user's language.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _inputs
from cogs._choices import attached_models, effect_choices, model_choices
from cogs._words import ls, option_names, say
from cogs.buttons import answer_extend_form, publish
from core.app.service import AnimateService
from core.domain.catalog import EFFECTS, Region
from core.domain.errors import Input, ValidationError
from core.domain.jobs import JobSpec, JobView

log = logging.getLogger(__name__)

Resolution = Literal["480P", "720P", "1080P"]
Choice = app_commands.Choice
PROMPT_MAX = 1500  # the longest any model takes; each model's own limit is checked by the service
ASPECTS = [
    Choice(name=ls("choice.aspect.original"), value="original"),
    *(Choice(name=a, value=a) for a in ("16:9", "9:16", "1:1", "4:3", "3:4")),
]
FILLS = [
    Choice(name=ls("choice.fill.crop"), value="crop"),
    Choice(name=ls("choice.fill.blur"), value="blur"),
]
SOUNDS = [
    Choice(name=ls("choice.sound.auto"), value="auto"),
    Choice(name=ls("choice.sound.silent"), value="silent"),
]


class PromptModal(discord.ui.Modal):
    """Asks for the prompt, in the language of the user who opened it."""

    def __init__(self, cog: AnimateCog, image: discord.Attachment, locale: str) -> None:
        super().__init__(title=say(locale, "modal.title"), timeout=15 * 60)
        self.cog = cog
        self.image = image
        self.prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
            label=say(locale, "modal.prompt"),
            style=discord.TextStyle.paragraph,
            max_length=PROMPT_MAX,
            placeholder=say(locale, "modal.prompt_placeholder"),
        )
        self.add_item(self.prompt)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        # no model: the server's default model (or the bot's) is used
        spec = self.cog.spec_for("", prompt=str(self.prompt.value))
        await self.cog.start_job(interaction, self.image, spec)

    async def on_error(  # type: ignore[override]  # discord.ui.Modal narrows it the same way
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        from cogs.boundary import report_error

        await report_error(interaction, error)


class AnimateCog(commands.Cog, name="Animate"):
    def __init__(self, bot: commands.Bot, service: AnimateService, region: Region) -> None:
        self.bot = bot
        self.service = service
        self.region = region
        # command names stay English in every language (issue 10)
        self.menu = app_commands.ContextMenu(
            name="Animate this image", callback=self.animate_message
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Filled-in Extend forms, answered from the interaction alone (restart-proof)."""
        await answer_extend_form(interaction)

    # ------------------------------------------------------------------ building a job
    def spec_for(self, model_name: str, **fields: object) -> JobSpec:
        """What the user asked for; an empty model, resolution or duration leaves the choice
        to the server's settings and the model's defaults (the facade fills them in)."""
        spec = JobSpec(model=model_name, prompt=None, resolution="", duration=0)
        given = {k: v for k, v in fields.items() if v is not None}
        return replace(spec, **given)  # type: ignore[arg-type]  # keys are JobSpec fields

    async def start_job(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment | None,
        spec: JobSpec,
        audio: discord.Attachment | None = None,
        *,
        end_image: discord.Attachment | None = None,
        clip: discord.Attachment | None = None,
    ) -> JobView:
        """The shared flow after the defer: check, read, submit, publish. An end image given
        to a model whose first-and-last-frame version is another model (kf2v) goes to that
        model, and the status message says so."""
        _inputs.check_can_deliver(interaction)
        for picture in (image, end_image):
            if picture is not None:
                _inputs.check_image(picture)
        if clip is not None:
            _inputs.check_clip(clip)
        if audio is not None:
            _inputs.check_audio(audio)
        note = None
        switch = _inputs.end_frame_choice(spec.model, self.region) if end_image else None
        if switch is not None:
            chosen, used = switch
            spec = replace(spec, model=used.id)
            locale = str(interaction.locale)
            note = say(locale, "animate.end_frame_model", chosen=chosen.id, used=used.id)
        chat = _inputs.chat_ref(interaction)
        member = _inputs.member_of(interaction)
        # the server's policy, the quotas and the rules, before any byte is read; submit
        # trusts the result (and checks the quotas again, atomically)
        checked = await self.service.check(
            spec,
            chat=chat,
            member=member,
            audio=audio is not None,
            last_frame=end_image is not None,
            clip=clip is not None,
            image=image is not None,
        )
        # few requests hold attachment bytes at once
        async with self.service.intake(chat, checked):
            data = await _inputs.read(image)
            job = await self.service.submit(
                spec=checked,
                image=data,
                chat=chat,
                member=member,
                audio=await _inputs.read(audio),
                audio_filename=audio.filename if audio is not None else None,
                last_frame=await _inputs.read(end_image),
                clip=await _inputs.read(clip),
            )
        log.info("job %s submitted by %s (%s)", job.id, interaction.user.id, job.spec.model)
        thumb = _inputs.thumbnail_for(data, interaction) if data is not None else None
        await publish(interaction, self.service, job, thumb, note=note)
        return job

    # ------------------------------------------------------------------ commands
    @app_commands.command(name="animate", description=ls("cmd.animate"))
    @app_commands.describe(
        image=ls("cmd.animate.image"),
        prompt=ls("cmd.animate.prompt"),
        model=ls("cmd.animate.model"),
        resolution=ls("cmd.animate.resolution"),
        duration=ls("cmd.animate.duration"),
        negative_prompt=ls("cmd.animate.negative_prompt"),
        seed=ls("cmd.animate.seed"),
        prompt_rewrite=ls("cmd.animate.prompt_rewrite"),
        watermark=ls("cmd.animate.watermark"),
        sound=ls("cmd.animate.sound"),
        audio=ls("cmd.animate.audio"),
        aspect=ls("cmd.animate.aspect"),
        fill=ls("cmd.animate.fill"),
        end_image=ls("cmd.animate.end_image"),
        clip=ls("cmd.animate.clip"),
    )
    @option_names(
        "image", "prompt", "model", "resolution", "duration", "negative_prompt", "seed",
        "prompt_rewrite", "watermark", "sound", "audio", "aspect", "fill", "end_image", "clip",
    )  # fmt: skip
    @app_commands.choices(aspect=ASPECTS, fill=FILLS, sound=SOUNDS)
    async def animate(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX],
        image: discord.Attachment | None = None,
        model: str | None = None,
        resolution: Resolution | None = None,
        duration: app_commands.Range[int, 1, 30] | None = None,
        negative_prompt: app_commands.Range[str, 1, 500] | None = None,
        seed: app_commands.Range[int, 0, 2_147_483_647] | None = None,
        prompt_rewrite: bool | None = None,
        watermark: bool | None = None,
        sound: str | None = None,
        audio: discord.Attachment | None = None,
        aspect: str | None = None,
        fill: str | None = None,
        end_image: discord.Attachment | None = None,
        clip: discord.Attachment | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        if image is None and clip is None:
            raise ValidationError(
                "Attach an image (it becomes the first frame), or a video to continue (clip).",
                key="animate.image_or_clip",
                subject=Input.IMAGE,
            )
        spec = self.spec_for(
            model or "",
            prompt=prompt,
            resolution=resolution,
            duration=duration,
            negative_prompt=negative_prompt,
            seed=seed,
            prompt_extend=prompt_rewrite,
            watermark=watermark,
            sound=None if sound is None else sound != "silent",
            aspect=aspect,
            fill=fill,
        )
        await self.start_job(interaction, image, spec, audio, end_image=end_image, clip=clip)

    @animate.autocomplete("model")
    async def model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The models that can take what is attached so far."""
        models = attached_models(interaction.namespace, self.region)
        locale = str(interaction.locale)
        return model_choices(self.region, current, locale, effect=None, models=models)

    @app_commands.command(name="animate-effect", description=ls("cmd.animate-effect"))
    @app_commands.describe(
        image=ls("cmd.animate-effect.image"),
        effect=ls("cmd.animate-effect.effect"),
        model=ls("cmd.animate-effect.model"),
        resolution=ls("cmd.animate-effect.resolution"),
    )
    @option_names("image", "effect", "model", "resolution")
    async def animate_effect(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        effect: str,
        model: str | None = None,
        resolution: Resolution | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        if effect not in EFFECTS:
            raise ValidationError(
                f"Unknown effect {effect!r}; pick one from the list.",
                key="request.effect_unknown",
                params={"effect": effect},
            )
        # no model: one that offers the effect (the facade picks it, within the server's list)
        spec = self.spec_for(model or "", template=effect, resolution=resolution)
        if model and effect not in _inputs.model_for(model, self.region).effects:
            raise ValidationError(
                f"{spec.model} does not support the {effect!r} effect.",
                key="request.effect_model",
                params={"model": spec.model, "effect": effect},
            )
        await self.start_job(interaction, image, spec)

    @animate_effect.autocomplete("effect")
    async def effect_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        chosen = getattr(interaction.namespace, "model", None)
        return effect_choices(self.region, current, chosen, str(interaction.locale))

    @animate_effect.autocomplete("model")
    async def effect_model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        effect = getattr(interaction.namespace, "effect", None) or None
        known = effect if effect in EFFECTS else None
        choices = model_choices(self.region, current, str(interaction.locale), effect=known)
        return [c for c in choices if _inputs.model_for(c.value, self.region).effects]

    async def animate_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """Message command: pick the message's picture and ask for a prompt.

        A file Discord could not label (``application/octet-stream``) is taken too: the bytes
        decide after the prompt, when the file is read (a modal must be the first answer).
        """
        image = _inputs.pick_image(message.attachments)
        if image is None:
            raise ValidationError(
                "That message has no image attached. Use this on a message with a picture, "
                "or run /animate and attach one.",
                key="image.none_on_message",
                subject=Input.IMAGE,
            )
        await interaction.response.send_modal(PromptModal(self, image, str(interaction.locale)))
