"""Cut the last seconds of a delivered result into a ``first_clip`` (an "Extend" button).

The clip must satisfy :mod:`core.media.clip` (MP4, 2–10 s, sides 240–4096 px, ≤ 100 MB). The cut
is re-encoded rather than copied: a copy can only start on a keyframe, which in a Wan result may
be the first frame, so the clip would be the whole video or far shorter than asked. Decoding
starts at the keyframe before the cut point and frames before it are dropped, so the clip starts
on the exact frame; sound follows with the same offset. The file appears at ``dest`` only when
complete and verified by :func:`core.media.clip.check_clip_file`. CPU-bound: call it through
:class:`core.media.pool.MediaPool`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error

from core.media._demux import VIDEO_DEMUXERS, open_path
from core.media.clip import (
    CLIP_LIMITS,
    ClipInfo,
    ClipLimits,
    check_clip_file,
    clip_error,
    clip_size,
    probe_clip_file,
    too_elongated,
)

#: Visually transparent H.264: DashScope re-emits the clip as the start of its result.
_X264 = {"preset": "veryfast", "crf": "18", "profile": "high"}
_AUDIO_BITRATE = 192_000


def _frames(
    container: av.container.InputContainer, streams: list[av.VideoStream | av.AudioStream]
) -> Iterator[av.VideoFrame | av.AudioFrame]:
    for packet in container.demux(streams):
        yield from packet.decode()  # type: ignore[misc]  # demux yields Packets, decode() frames


def _encode(src: Path, dest: Path, start: float, size: tuple[int, int], limits: ClipLimits) -> None:
    with open_path(src, VIDEO_DEMUXERS) as container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        audio_in = container.streams.audio[0] if container.streams.audio else None
        rate = vs.average_rate or vs.guessed_rate or Fraction(30)
        if start > 0 and vs.time_base is not None:
            container.seek(int(start / vs.time_base), stream=vs, backward=True)
        # a VBV cap that keeps any content well inside the byte limit
        maxrate = int(limits.max_bytes * 8 * 0.8 / limits.max_seconds)
        opts = {**_X264, "maxrate": str(maxrate), "bufsize": str(maxrate)}
        with av.open(str(dest), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            v_out = out.add_stream("libx264", rate=rate, options=opts)
            v_out.width, v_out.height = size
            v_out.pix_fmt = "yuv420p"
            a_out = None
            if audio_in is not None:
                layout = "mono" if audio_in.codec_context.channels == 1 else "stereo"
                a_rate = audio_in.codec_context.sample_rate or 48000
                a_out = out.add_stream("aac", rate=a_rate, layout=layout)
                a_out.bit_rate = _AUDIO_BITRATE
            half_frame = 0.5 / float(rate)
            streams: list[av.VideoStream | av.AudioStream] = [vs]
            if audio_in is not None:
                streams.append(audio_in)
            for frame in _frames(container, streams):
                if frame.pts is None or frame.time_base is None or frame.time is None:
                    continue
                if frame.time < start - half_frame:
                    continue  # decoded from the keyframe before the cut, not part of the clip
                frame.pts -= round(start / frame.time_base)
                if isinstance(frame, av.VideoFrame):
                    if (frame.width, frame.height) != size or frame.format.name != "yuv420p":
                        frame = frame.reformat(
                            width=size[0], height=size[1], format="yuv420p", interpolation="AREA"
                        )
                    out.mux(v_out.encode(frame))
                elif a_out is not None:
                    out.mux(a_out.encode(frame))
            out.mux(v_out.encode(None))
            if a_out is not None:
                out.mux(a_out.encode(None))


def cut_last(
    src: Path, dest: Path, *, seconds: float | None = None, limits: ClipLimits = CLIP_LIMITS
) -> ClipInfo:
    """Write the last ``seconds`` (default and at most ``limits.max_seconds``) of ``src`` to
    ``dest`` as an MP4 valid as ``first_clip``; :class:`ValidationError` if that cannot be.

    A result shorter than ``seconds`` is taken whole; one shorter than ``limits.min_seconds`` or
    shaped beyond 8:1 cannot be continued and is refused with a message saying so.
    """
    whole = probe_clip_file(src)
    keep = min(limits.max_seconds, seconds if seconds is not None else limits.max_seconds)
    if whole.seconds < limits.min_seconds or keep < limits.min_seconds:
        raise clip_error(
            f"The video is {min(whole.seconds, keep):.1f} s; at least {limits.min_seconds:g} s "
            "is needed to continue it.",
            "too_short",
            seconds=round(min(whole.seconds, keep), 2),
            min_seconds=limits.min_seconds,
        )
    if too_elongated(whole.width, whole.height, limits):
        raise clip_error(
            f"The video is {whole.width}×{whole.height} pixels, longer than "
            f"{limits.max_ratio:g}:1, so it cannot be continued.",
            "aspect",
            width=whole.width,
            height=whole.height,
        )
    start = max(0.0, whole.seconds - keep)
    part = dest.with_name(dest.name + ".part")
    try:
        try:
            _encode(src, part, start, clip_size(whole.width, whole.height, limits), limits)
        except (av.error.FFmpegError, ValueError) as exc:
            raise clip_error("The video could not be cut into a clip.", "encode") from exc
        info = check_clip_file(part, limits)
        os.replace(part, dest)
        return info
    finally:
        part.unlink(missing_ok=True)
