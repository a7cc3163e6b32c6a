"""Turning Discord inputs into a ``JobSpec`` + bytes, with clear errors before anything is spent."""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord

from core.catalog import Model, Region
from core.errors import Input, ValidationError
from core.jobs import ChatRef
from core.validation import resolve_model

MIB = 1024 * 1024
#: the largest image any model accepts; the media pipeline shrinks anything inside it
MAX_IMAGE_BYTES = 20 * MIB
MAX_AUDIO_BYTES = 15 * MIB
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
AUDIO_EXTENSIONS = (".mp3", ".wav", ".ogg", ".m4a", ".aac", ".flac")
#: embed thumbnails via attachment:// only render these types (reference §A.4)
THUMBNAIL_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}
MAX_THUMBNAIL_BYTES = 2 * MIB


def _mb(n: int) -> str:
    return f"{n / MIB:.1f} MB"


def is_image(att: discord.Attachment) -> bool:
    if att.content_type:
        return att.content_type.split(";")[0].strip().lower().startswith("image/")
    return att.filename.lower().endswith(IMAGE_EXTENSIONS)


def check_image(att: discord.Attachment) -> None:
    """Refuse non-images and oversized files from metadata alone (no download)."""
    if not is_image(att):
        kind = att.content_type or "unknown type"
        raise ValidationError(
            f"`{att.filename}` is not an image ({kind}). Attach a JPEG, PNG, WEBP or BMP image.",
            subject=Input.IMAGE,
        )
    if att.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            f"The image is {_mb(att.size)}; the limit is {_mb(MAX_IMAGE_BYTES)}. "
            "Attach a smaller image.",
            subject=Input.IMAGE,
        )


def check_audio(att: discord.Attachment, model: Model) -> None:
    if not model.custom_audio:
        raise ValidationError(
            f"{model.label} cannot use your own audio; pick a Wan 2.5 or newer model, "
            "or leave out the audio file.",
            subject=Input.AUDIO,
        )
    is_audio = (att.content_type or "").lower().startswith(
        "audio/"
    ) or att.filename.lower().endswith(AUDIO_EXTENSIONS)
    if not is_audio:
        raise ValidationError(
            f"`{att.filename}` is not an audio file. Attach an MP3 or WAV file.",
            subject=Input.AUDIO,
        )
    if att.size > MAX_AUDIO_BYTES:
        raise ValidationError(
            f"The audio file is {_mb(att.size)}; the limit is {_mb(MAX_AUDIO_BYTES)}.",
            subject=Input.AUDIO,
        )


def model_for(name: str, region: Region) -> Model:
    return resolve_model(name, region)


def chat_ref(interaction: discord.Interaction) -> ChatRef:
    return ChatRef(
        platform="discord",
        user=str(interaction.user.id),
        channel=str(interaction.channel_id),
        guild=str(interaction.guild_id) if interaction.guild_id else None,
        locale=str(interaction.locale),
    )


def can_open_thread(interaction: discord.Interaction) -> bool:
    """A public thread on the status message only where Discord allows one and we can use it."""
    if not isinstance(interaction.channel, discord.TextChannel):
        return False  # DMs, threads, forum posts, voice / stage chats
    perms = interaction.app_permissions
    return perms.create_public_threads and perms.send_messages_in_threads and perms.attach_files


def check_can_deliver(interaction: discord.Interaction) -> None:
    """Refuse before spending when the result could never be posted here."""
    if interaction.guild_id is None:
        return  # a DM with the bot
    perms = interaction.app_permissions
    in_thread = isinstance(interaction.channel, discord.Thread)
    can_send = perms.send_messages_in_threads if in_thread else perms.send_messages
    if not (perms.view_channel and can_send):
        raise ValidationError(
            "I can't post messages in this channel, so I could not deliver the video. "
            "Ask an admin to let me View Channel and Send Messages here, or use another channel."
        )


@dataclass(frozen=True, slots=True)
class Thumbnail:
    data: bytes
    filename: str

    def file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename)

    @property
    def url(self) -> str:
        return f"attachment://{self.filename}"


def thumbnail_for(
    att: discord.Attachment, data: bytes, interaction: discord.Interaction
) -> Thumbnail | None:
    ext = THUMBNAIL_TYPES.get((att.content_type or "").split(";")[0].strip().lower())
    if ext is None or len(data) > MAX_THUMBNAIL_BYTES:
        return None
    if interaction.guild_id is not None and not interaction.app_permissions.attach_files:
        return None
    return Thumbnail(data, f"input.{ext}")
