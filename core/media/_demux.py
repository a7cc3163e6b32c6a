"""Open untrusted media with FFmpeg so that it reads the bytes it was given and nothing else.

FFmpeg picks a demuxer by probing the content, and some demuxers are playlists: an ``ffconcat``
script, an HLS or DASH manifest, an IMF composition name other files that FFmpeg then opens
itself, relative to the working directory or as ``file:``/``http:`` URLs. An "audio" upload that
is a concat script naming ``data/media/videos/job-17.mp4`` would turn another user's result into
the attacker's driving audio. Two independent locks, each enough on its own (the tests prove
both):

* ``format_whitelist`` names the only demuxers that may be chosen; playlists never are. FFmpeg
  still probes every demuxer, then refuses the input when the best match is not on the list.
* ``protocol_whitelist`` is the empty list. The input itself is a Python file object (PyAV's
  custom I/O uses no protocol), so the only way a demuxer can reach another file is a nested
  open, and that finds no protocol allowed. PyAV keeps FFmpeg's default ``io_open`` unless it is
  given one, and the default honours the list; nested demuxers inherit both lists.

Paths are opened by Python and handed over as file objects for the same reason: opening a path
by name would need the ``file`` protocol, which every nested open would then inherit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import av.container

#: Sound containers users send: MP3, WAV, M4A/MP4/MOV, OGG/Opus, FLAC, raw AAC (ADTS), WebM/MKV,
#: AIFF. Names as FFmpeg's demuxers call themselves ("mov" covers mp4/m4a/3gp, "matroska" webm).
AUDIO_DEMUXERS = ("mp3", "wav", "mov", "ogg", "flac", "aac", "matroska", "aiff")
#: MP4 and QuickTime: what DashScope delivers, and all that a ``first_clip`` may be.
VIDEO_DEMUXERS = ("mov",)
#: Read size of PyAV's custom I/O; larger than its 32 KiB default to cut Python calls per file.
_BUFFER = 1024 * 1024


def restrictions(demuxers: tuple[str, ...]) -> dict[str, str]:
    """The container options that confine FFmpeg to ``demuxers`` and to no protocol at all."""
    return {"format_whitelist": ",".join(demuxers), "protocol_whitelist": ""}


def open_bytes(data: bytes, demuxers: tuple[str, ...]) -> av.container.InputContainer:
    """``av.open`` on untrusted bytes; raises PyAV's errors as ``av.open`` does."""
    return av.open(
        io.BytesIO(data), mode="r", container_options=restrictions(demuxers), buffer_size=_BUFFER
    )


@contextmanager
def open_path(path: Path, demuxers: tuple[str, ...]) -> Iterator[av.container.InputContainer]:
    """``av.open`` on a file that came from the network, read through a Python file object.

    Raises ``FileNotFoundError`` when the file is missing, PyAV's errors when FFmpeg refuses it.
    """
    with (
        path.open("rb") as file,
        av.open(
            file, mode="r", container_options=restrictions(demuxers), buffer_size=_BUFFER
        ) as container,
    ):
        yield container
