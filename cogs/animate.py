"""``/animate``, ``/animate-effect`` and the "Animate this image" message command.

Each one defers within Discord's 3 s window before any I/O, reads the attachment at once (its URL
is ephemeral), lets the service validate (nothing is spent on bad input), submits, then turns the
"thinking…" reply into the public status message and opens a thread on it where it can.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _embeds, _inputs
from cogs.buttons import publish
from core.app.service import AnimateService
from core.domain.catalog import DEFAULT_EFFECT_MODEL, DEFAULT_MODEL, EFFECTS, Region, models_in
from core.domain.errors import Input, ValidationError
from core.domain.jobs import JobSpec, JobView

log = logging.getLogger(__name__)

Resolution = Literal["480P", "720P", "1080P"]
Aspect = Literal["original", "16:9", "9:16", "1:1", "4:3", "3:4"]
Fill = Literal["crop", "blur"]
Sound = Literal["auto", "silent"]
PROMPT_MAX = 1500  # the longest any model takes; each model's own limit is checked by the service


class PromptModal(discord.ui.Modal, title="Animate this image"):
    prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
        label="What should happen in the video?",
        style=discord.TextStyle.paragraph,
        max_length=PROMPT_MAX,
        placeholder="The cat slowly turns its head and blinks",
    )

    def __init__(self, cog: AnimateCog, image: discord.Attachment) -> None:
        super().__init__(timeout=15 * 60)
        self.cog = cog
        self.image = image

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        spec = self.cog.spec_for(DEFAULT_MODEL, prompt=str(self.prompt.value))
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
        self.menu = app_commands.ContextMenu(
            name="Animate this image", callback=self.animate_message
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    # ------------------------------------------------------------------ building a job
    def spec_for(self, model_name: str, **fields: object) -> JobSpec:
        model = _inputs.model_for(model_name, self.region)
        spec = JobSpec(
            model=model.id,
            prompt=None,
            resolution=model.default_resolution,
            duration=model.default_duration,
        )
        given = {k: v for k, v in fields.items() if v is not None}
        return replace(spec, **given)  # type: ignore[arg-type]  # keys are JobSpec fields

    async def start_job(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        spec: JobSpec,
        audio: discord.Attachment | None = None,
    ) -> JobView:
        """The shared flow after the defer: check, read, validate, submit, publish."""
        _inputs.check_can_deliver(interaction)
        _inputs.check_image(image)
        if audio is not None:
            _inputs.check_audio(audio)
        # the one validation, before any byte is read; submit trusts its result
        checked = self.service.validate(spec, audio=audio is not None)
        chat = _inputs.chat_ref(interaction)
        # the per-user cap refuses before any byte is read; few requests hold bytes at once
        async with self.service.intake(chat):
            try:
                data = await image.read()
                audio_data = await audio.read() if audio is not None else None
            except discord.HTTPException as exc:
                # slash-command uploads are ephemeral; Discord may already have dropped the file
                raise ValidationError(
                    "Discord no longer has that upload (it answered "
                    f"{exc.status}). Attach the file again and retry; nothing was spent.",
                    key="image.upload_gone",
                    params={"status": exc.status},
                    subject=Input.IMAGE,
                ) from exc
            job = await self.service.submit(
                spec=checked,
                image=data,
                chat=chat,
                audio=audio_data,
                audio_filename=audio.filename if audio is not None else None,
            )
        log.info("job %s submitted by %s (%s)", job.id, interaction.user.id, job.spec.model)
        await publish(interaction, self.service, job, _inputs.thumbnail_for(data, interaction))
        return job

    # ------------------------------------------------------------------ commands
    @app_commands.command(name="animate", description="Turn an image into a short video")
    @app_commands.describe(
        image="The picture to animate (JPEG, PNG, WEBP or BMP)",
        prompt="What should happen in the video",
        model="Which Wan model (price per second shown)",
        resolution="Video resolution (default: the model's default)",
        duration="Length in seconds (default: the model's default)",
        negative_prompt="What to avoid",
        seed="Fix the random seed to reproduce a result",
        prompt_rewrite="Let the service expand your prompt (default on)",
        watermark="Add the 'AI generated' watermark",
        sound="Generate sound where the model can (auto), or make it silent",
        audio="Your own audio track (MP3/WAV, 3-30 s) for models that accept one",
        aspect="Reshape the image to this aspect ratio first (the video keeps the image's shape)",
        fill="How to reach that aspect: crop the middle (default) or pad with a blurred copy",
    )
    async def animate(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        prompt: app_commands.Range[str, 1, PROMPT_MAX],
        model: str | None = None,
        resolution: Resolution | None = None,
        duration: app_commands.Range[int, 1, 15] | None = None,
        negative_prompt: app_commands.Range[str, 1, 500] | None = None,
        seed: app_commands.Range[int, 0, 2_147_483_647] | None = None,
        prompt_rewrite: bool | None = None,
        watermark: bool | None = None,
        sound: Sound | None = None,
        audio: discord.Attachment | None = None,
        aspect: Aspect | None = None,
        fill: Fill | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        spec = self.spec_for(
            model or DEFAULT_MODEL,
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
        await self.start_job(interaction, image, spec, audio)

    @animate.autocomplete("model")
    async def model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return self._model_choices(current, effect=None)

    def _model_choices(self, current: str, effect: str | None) -> list[app_commands.Choice[str]]:
        needle = current.strip().lower()
        out = []
        for m in models_in(self.region):
            if effect is not None and effect not in m.effects:
                continue
            if needle and needle not in m.id and needle not in m.label.lower():
                continue
            durations = (
                f"{m.durations[0]}-{m.durations[-1]} s"
                if len(m.durations) > 1
                else f"{m.durations[0]} s"
            )
            price = _embeds.price_hint(m, self.region)
            name = f"{m.label} — {price} · {'/'.join(m.resolutions)} · {durations}"
            out.append(app_commands.Choice(name=name[:100], value=m.id))
        return out[:25]

    @app_commands.command(
        name="animate-effect", description="Animate an image with an effect template"
    )
    @app_commands.describe(
        image="The picture to animate",
        effect="The effect template (Chinese and English names)",
        model="A model that supports the effect (default: one that supports all)",
        resolution="Video resolution",
    )
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
        spec = self.spec_for(model or DEFAULT_EFFECT_MODEL, template=effect, resolution=resolution)
        if effect not in _inputs.model_for(spec.model, self.region).effects:
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
        needle = current.strip().lower()
        chosen = getattr(interaction.namespace, "model", None)
        supported = {
            e for m in models_in(self.region) for e in m.effects if not chosen or m.id == chosen
        }
        out = []
        for e in EFFECTS.values():
            if e.name not in supported:
                continue
            if needle and not any(needle in s.lower() for s in (e.name, e.zh, e.en)):
                continue
            out.append(app_commands.Choice(name=f"{e.zh} · {e.en} ({e.category})", value=e.name))
        return out[:25]

    @animate_effect.autocomplete("model")
    async def effect_model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        effect = getattr(interaction.namespace, "effect", None) or None
        choices = self._model_choices(current, effect=effect if effect in EFFECTS else None)
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
        await interaction.response.send_modal(PromptModal(self, image))
