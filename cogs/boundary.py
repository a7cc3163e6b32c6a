"""The one error boundary: turn any exception into a short, user-safe ephemeral reply.

Core errors are said in the user's language from their key and parameters (their English
``message`` is the fallback); discord.py check failures say what is missing; anything else gets
"Something went wrong (ref: …)" while the full context goes to the log. Used by the tree
(``bot/tree.py``), modals and buttons alike.
"""

from __future__ import annotations

import contextlib
import logging
import secrets

import discord
from discord import app_commands

from cogs._words import error_message, say
from core.domain.errors import AnimateError

log = logging.getLogger(__name__)
CONTENT_MAX = 2000  # Discord's message content limit (reference §A.5)


def _context(interaction: discord.Interaction) -> str:
    command = interaction.command.qualified_name if interaction.command else None
    data: dict[str, object] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    return (
        f"command={command or custom_id!s} user={interaction.user.id} "
        f"guild={interaction.guild_id} channel={interaction.channel_id}"
    )


def user_message(interaction: discord.Interaction, error: BaseException) -> str:
    """The text to show for ``error``; logs it at the right level on the way."""
    original = error
    if isinstance(original, app_commands.CommandInvokeError):
        original = original.original
    elif isinstance(original, app_commands.TransformerError) and original.__cause__ is not None:
        original = original.__cause__
    locale = str(interaction.locale)
    if isinstance(original, AnimateError):
        log.info(
            "refused (%s): %s [%s]", original.kind.value, original.message, _context(interaction)
        )
        return error_message(locale, original)
    if isinstance(original, app_commands.CommandOnCooldown):
        return say(locale, "error.cooldown", seconds=round(original.retry_after))
    if isinstance(original, app_commands.CheckFailure):
        log.info("check failed: %s [%s]", original, _context(interaction))
        return say(locale, "error.check_failed")
    ref = secrets.token_hex(4)
    log.error("unhandled error ref=%s [%s]", ref, _context(interaction), exc_info=original)
    return say(locale, "error.unexpected", ref=ref)


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply privately whatever state the interaction is in.

    A "thinking…" defer cannot turn private (the first followup would replace it, publicly if
    it was public), so it is deleted first and the message goes out as an ephemeral followup.
    That holds for buttons that defer with ``thinking=True`` too: their "original" is the new
    thinking message, not the message carrying the button. ``text`` is cut to Discord's 2000.
    """
    if len(text) > CONTENT_MAX:
        text = text[: CONTENT_MAX - 1] + "…"
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        thinking = (
            interaction.response.type is discord.InteractionResponseType.deferred_channel_message
        )
        if thinking:
            with contextlib.suppress(discord.NotFound):
                await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not tell user %s about an error: %s", interaction.user.id, exc)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    await send_ephemeral(interaction, user_message(interaction, error))
