"""Turning Discord inputs into a ``JobSpec`` + bytes, with clear errors before anything is spent."""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord

from core.domain.catalog import Model, Region, end_frame_model
from core.domain.errors import Input, ValidationError
from core.domain.jobs import ChatRef
from core.domain.policy import Member
from core.domain.validation import resolve_model

MIB = 1024 * 1024
#: the largest image any model accepts; the media pipeline shrinks anything inside it
MAX_IMAGE_BYTES = 20 * MIB
MAX_AUDIO_BYTES = 15 * MIB
#: DashScope's ``first_clip`` limit (decimal megabytes, ``core.media.clip``)
MAX_CLIP_BYTES = 100 * 1000 * 1000
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".avif", ".tif", ".tiff")
#: what Discord says about a file it could not identify (or says nothing): the bytes decide
UNKNOWN_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: embed thumbnails via attachment:// only render these types (reference §A.4), told by signature
THUMBNAIL_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
MAX_THUMBNAIL_BYTES = 2 * MIB


def _mb(n: int) -> str:
    return f"{n / MIB:.1f} MB"


def _name(att: discord.Attachment) -> str:
    """The file name as inline code; a backtick in it would end the code span early."""
    return "`" + att.filename.replace("`", "'") + "`"


def _mime(att: discord.Attachment) -> str:
    return (att.content_type or "").split(";")[0].strip().lower()


def labelled_image(att: discord.Attachment) -> bool:
    """Discord's metadata says picture: an image/* type, or no type and a picture's extension."""
    mime = _mime(att)
    if mime:
        return mime.startswith("image/")
    return att.filename.lower().endswith(IMAGE_EXTENSIONS)


def pick_image(attachments: list[discord.Attachment]) -> discord.Attachment | None:
    """The picture to animate on a message: the first labelled one, else the first file Discord
    could not identify (a JPEG named ``photo.bin``) — its bytes decide once it is read."""
    labelled = next((a for a in attachments if labelled_image(a)), None)
    return labelled or next((a for a in attachments if _mime(a) in UNKNOWN_TYPES), None)


def check_image(att: discord.Attachment) -> None:
    """Refuse only what metadata can prove: the size. What the file is, its bytes decide (the
    media pipeline identifies pictures by content and explains what else it got)."""
    if att.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            f"{_name(att)} is {_mb(att.size)}; the limit for pictures is "
            f"{_mb(MAX_IMAGE_BYTES)}. Attach a smaller or more compressed picture (a JPEG).",
            key="image.too_big",
            params={"size_mb": round(att.size / MIB, 1), "limit_mb": MAX_IMAGE_BYTES // MIB},
            subject=Input.IMAGE,
        )


def check_audio(att: discord.Attachment) -> None:
    """Refuse only what metadata can prove: the size (whether the model takes audio at all is
    the facade's validation; what the file is, its bytes decide)."""
    if att.size > MAX_AUDIO_BYTES:
        raise ValidationError(
            f"The audio file {_name(att)} is {_mb(att.size)}; the limit is "
            f"{_mb(MAX_AUDIO_BYTES)}. Send a shorter clip (30 s is the most that is used).",
            key="audio.too_big",
            params={"size_mb": round(att.size / MIB, 1), "limit_mb": MAX_AUDIO_BYTES // MIB},
            subject=Input.AUDIO,
        )


def check_clip(att: discord.Attachment) -> None:
    """Refuse a video to continue that metadata proves too big (its bytes decide the rest:
    MP4/MOV, 2–10 s, sides 240–4096 px)."""
    if att.size > MAX_CLIP_BYTES:
        raise ValidationError(
            f"The video {_name(att)} is {att.size / 1e6:.1f} MB; up to 100 MB is accepted. "
            "Send a shorter or more compressed clip.",
            key="clip.too_big",
            params={"size_mb": round(att.size / 1e6, 1), "limit_mb": 100},
            subject=Input.CLIP,
        )


async def read(att: discord.Attachment | None) -> bytes | None:
    """An attachment's bytes (None: not given), or a refusal when Discord dropped the upload."""
    if att is None:
        return None
    try:
        return await att.read()
    except discord.HTTPException as exc:
        # slash-command uploads are ephemeral; Discord may already have dropped the file
        raise ValidationError(
            "Discord no longer has that upload (it answered "
            f"{exc.status}). Attach the file again and retry; nothing was spent.",
            key="image.upload_gone",
            params={"status": exc.status},
            subject=Input.IMAGE,
        ) from exc


def end_frame_choice(model_name: str, region: Region) -> tuple[Model, Model] | None:
    """(chosen, used) when an end image sends the model the user named to its first-and-last-
    frame counterpart (kf2v); None when the named model (or the server's choice) is kept."""
    if not model_name:
        return None
    chosen = resolve_model(model_name, region)
    used = end_frame_model(chosen, region)
    return None if used is chosen else (chosen, used)


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


def member_of(interaction: discord.Interaction) -> Member:
    """The requester as the facade sees them: their role ids, whether they may manage the
    server (Manage Server: the server's settings and spending), and a thread's parent channel
    (a thread in an allowed channel is allowed)."""
    try:
        found = getattr(interaction.user, "roles", ())  # a Member in a server, a User in DMs
    except AttributeError:  # Member.roles resolves ids through the guild cache
        found = ()
    roles = frozenset(str(r.id) for r in found if not r.is_default())
    parent = getattr(interaction.channel, "parent_id", None)
    return Member(
        roles=roles,
        admin=interaction.guild_id is not None and interaction.permissions.manage_guild,
        places=frozenset({str(parent)}) if parent else frozenset(),
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
            "Ask an admin to let me View Channel and Send Messages here, or use another channel.",
            key="place.cannot_post",
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


def thumbnail_for(data: bytes, interaction: discord.Interaction) -> Thumbnail | None:
    """The upload itself as the status thumbnail, when its bytes are a type embeds render."""
    ext = next((e for sig, e in THUMBNAIL_SIGNATURES if data.startswith(sig)), None)
    if ext is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        ext = "webp"
    if ext is None or len(data) > MAX_THUMBNAIL_BYTES:
        return None
    if interaction.guild_id is not None and not interaction.app_permissions.attach_files:
        return None
    return Thumbnail(data, f"input.{ext}")
