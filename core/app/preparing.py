"""Every input file of a request made ready for DashScope, off the event loop, before the row.

The first frame and an end image go through the same normalisation (``normalise_image`` with
the request's aspect and fill, so both frames have one shape); a clip to continue is judged by
its bytes (``check_clip``: MP4/MOV, 2–10 s, sides 240–4096 px, ≤ 100 MB) and kept as it is; an
audio file is prepared within the model's limits (wan2.7's driving audio from 2 s). Then the
files are checked once against the model (``check_media``), a continuation's total duration
against the clip it includes. CPU-heavy work runs in the media pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.app.recording import InputFile
from core.domain.catalog import Region
from core.domain.jobs import JobSpec
from core.domain.tasks import MediaFile
from core.domain.validation import check_media
from core.media.audio import prepare_audio
from core.media.clip import check_clip
from core.media.image import normalise_image
from core.media.pool import MediaPool

_CLIP_MIMES = {"mp4": "video/mp4", "mov": "video/quicktime"}


@dataclass(frozen=True, slots=True)
class Prepared:
    """The files to record, and what the pipeline changed in them (for the user)."""

    image: InputFile | None
    last_frame: InputFile | None = None
    clip: InputFile | None = None
    clip_seconds: float | None = None
    audio: InputFile | None = None
    notes: tuple[str, ...] = ()


async def prepare_inputs(
    media: MediaPool,
    spec: JobSpec,
    region: Region,
    *,
    image: bytes | None,
    last_frame: bytes | None = None,
    clip: bytes | None = None,
    audio: bytes | None = None,
    audio_filename: str | None = None,
) -> Prepared:
    """The inputs of a validated ``spec``, normalised and checked; ``ValidationError`` when a
    file cannot be used (saying what to change)."""
    model = spec.catalog_model
    notes: list[str] = []
    first = end = None
    if image is not None:
        first = await media.run(normalise_image, image, model, aspect=spec.aspect, fill=spec.fill)
        notes += first.notes
    if last_frame is not None:
        end = await media.run(
            normalise_image, last_frame, model, aspect=spec.aspect, fill=spec.fill
        )
        notes += [f"end image: {note}" for note in end.notes]
    video = await media.run(check_clip, clip) if clip is not None else None
    sound = None
    if audio is not None:
        sound = await media.run(prepare_audio, audio, audio_filename, model.audio_limits)
        notes += sound.notes
    check_media(
        model,
        MediaFile(first.data, first.mime, "image") if first else None,
        MediaFile(sound.data, sound.mime, sound.filename) if sound else None,
        last_frame=MediaFile(end.data, end.mime, "end") if end else None,
        continuation=(region, spec.duration, video.seconds) if video else None,
    )
    return Prepared(
        image=InputFile(first.mime, data=first.data) if first else None,
        last_frame=InputFile(end.mime, data=end.data) if end else None,
        clip=InputFile(_CLIP_MIMES[video.container], data=clip) if video else None,
        clip_seconds=video.seconds if video else None,
        audio=InputFile(sound.mime, data=sound.data, filename=sound.filename) if sound else None,
        notes=tuple(notes),
    )
