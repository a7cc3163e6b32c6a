"""Make a user's sound file acceptable as ``audio_url`` (reference §6.4: wav/mp3, 3–30 s, ≤ 15 MB).

The file is identified and decoded by PyAV (FFmpeg) from its content, with FFmpeg confined to
sound containers and to the bytes given (:mod:`core.media._demux`). A WAV or MP3 that already
meets the limits is passed through byte for byte; anything else (m4a/AAC, ogg/opus, flac, a video's
sound track, an over-long file) is decoded to 16-bit PCM and encoded as MP3, trimmed to the maximum
length with a note. Too-short, soundless or unreadable files get a message saying what to do.
CPU-bound: call it through :class:`core.media.pool.MediaPool`.
"""

from __future__ import annotations

import io
import logging
import re
from array import array
from dataclasses import dataclass

import av
import av.error

from core.domain.catalog import AUDIO_LIMITS, AudioLimits
from core.domain.errors import Input, ValidationError
from core.media._demux import AUDIO_DEMUXERS, open_bytes

log = logging.getLogger(__name__)

_MB = 1024 * 1024
#: Largest upload we try to decode (a 30 s clip is a few MB even as lossless WAV).
MAX_INPUT_BYTES = 64 * _MB
#: Peak below this (16-bit full scale 32767, about -60 dBFS) counts as silence.
SILENCE_PEAK = 33
_MP3_RATES = frozenset({32000, 44100, 48000})
#: MPEG-1 layer III bitrates tried, best first; the first whose size fits ``max_bytes`` is used.
_MP3_BITRATES = (192_000, 160_000, 128_000, 96_000, 64_000, 48_000, 32_000)
#: WAV codecs DashScope's "wav" surely means: plain PCM.
_PCM_CODECS = frozenset({"pcm_s16le", "pcm_s24le", "pcm_u8"})
_MP3_CODECS = frozenset({"mp3", "mp3float"})
_MP3_FRAME = 1152  # samples per MPEG-1 layer III frame


@dataclass(frozen=True, slots=True)
class PreparedAudio:
    """Audio ready for upload: WAV or MP3 bytes within the limits."""

    data: bytes
    mime: str  # "audio/mpeg" | "audio/wav"
    filename: str  # safe name with the right extension, e.g. "voice.mp3"
    seconds: float
    notes: tuple[str, ...]  # user-facing remarks, e.g. "converted from M4A to MP3"
    source_format: str = ""  # container as FFmpeg named it, e.g. "ogg", "wav"


def _refuse(message: str, key: str, **params: object) -> ValidationError:
    return ValidationError(message, key=f"audio.{key}", params=params, subject=Input.AUDIO)


def _unreadable() -> ValidationError:
    return _refuse(
        "That file is not an audio file: no sound could be read from it. Please attach an MP3 "
        "or WAV file (M4A, OGG, OPUS and FLAC are converted automatically).",
        "unreadable",
    )


@dataclass(slots=True)
class _Pcm:
    """Decoded sound as interleaved signed 16-bit samples."""

    data: bytearray
    rate: int
    channels: int
    source_seconds: float | None  # length the container claims, if it says
    complete: bool  # decoded to the end without an error
    truncated: bool  # stopped early because it was longer than needed

    @property
    def seconds(self) -> float:
        return len(self.data) / (2 * self.channels * self.rate)


def _decode(data: bytes, limit_seconds: float) -> tuple[_Pcm, str, str, bool]:
    """Decode up to ``limit_seconds`` (+1 s, to tell "longer") of the first audio stream."""
    try:
        # only sound containers, and no way to reach any other file (see _demux)
        container = open_bytes(data, AUDIO_DEMUXERS)
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError):
        raise _unreadable() from None
    with container:
        if not container.streams.audio:
            kind = "video without a sound track" if container.streams.video else "file"
            raise _refuse(
                f"That {kind} has no sound in it. Attach an MP3 or WAV file.", "no_audio_stream"
            )
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        fmt = container.format.name
        has_video = bool(container.streams.video)
        channels = 1 if stream.codec_context.channels == 1 else 2
        rate = stream.codec_context.sample_rate or 44100
        rate = rate if rate in _MP3_RATES else 44100
        resampler = av.AudioResampler(
            format="s16", layout="mono" if channels == 1 else "stereo", rate=rate
        )
        claimed = container.duration / 1_000_000 if container.duration else None
        pcm = _Pcm(bytearray(), rate, channels, claimed, complete=True, truncated=False)
        stop_bytes = int((limit_seconds + 1.0) * rate) * 2 * channels
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pcm.data += bytes(out.planes[0])[: out.samples * 2 * channels]
                if len(pcm.data) >= stop_bytes:
                    pcm.truncated = True
                    break
            else:
                for out in resampler.resample(None):
                    pcm.data += bytes(out.planes[0])[: out.samples * 2 * channels]
        except (av.error.FFmpegError, ValueError, OSError):
            log.debug("audio decode stopped early", exc_info=True)
            pcm.complete = False
    return pcm, fmt, codec, has_video


def _peak(pcm: bytes) -> int:
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    if not samples:
        return 0
    return max(max(samples), -min(samples))


def _mp3_bitrate(seconds: float, channels: int, max_bytes: int) -> int | None:
    """Best bitrate whose stream (plus 2 % for headers) fits ``max_bytes``; mono needs less."""
    ceiling = 128_000 if channels == 1 else _MP3_BITRATES[0]
    for rate in _MP3_BITRATES:
        if rate <= ceiling and seconds * rate / 8 * 1.02 + 4096 <= max_bytes:
            return rate
    return None


def _encode_mp3(pcm: bytes, rate: int, channels: int, bitrate: int) -> bytes:
    layout = "mono" if channels == 1 else "stereo"
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout=layout)
        stream.bit_rate = bitrate
        step = _MP3_FRAME * 2 * channels
        pts = 0
        for start in range(0, len(pcm), step):
            chunk = pcm[start : start + step]
            frame = av.AudioFrame(format="s16", layout=layout, samples=len(chunk) // (2 * channels))
            frame.planes[0].update(chunk)
            frame.sample_rate = rate
            frame.pts = pts
            pts += frame.samples
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def _safe_name(filename: str | None, ext: str) -> str:
    stem = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:60] or "audio"
    return f"{stem}.{ext}"


def _label(fmt: str, codec: str, has_video: bool) -> str:
    if fmt.startswith("mov,mp4"):
        return "MP4" if has_video or codec not in ("aac", "alac") else "M4A"
    if fmt == "ogg":
        return "OPUS" if codec == "opus" else "OGG"
    if fmt.startswith("matroska"):
        return "WEBM"  # FFmpeg names one demuxer for both; voice notes and browsers send WebM
    return fmt.split(",")[0].upper()


def prepare_audio(
    data: bytes, filename: str | None = None, limits: AudioLimits = AUDIO_LIMITS
) -> PreparedAudio:
    """Return WAV/MP3 bytes within ``limits`` or raise :class:`ValidationError` (subject AUDIO)."""
    if not data:
        raise _refuse("The sound file is empty (0 bytes). Attach it again.", "empty")
    if len(data) > MAX_INPUT_BYTES:
        raise _refuse(
            f"The sound file is {len(data) / _MB:.0f} MB; up to {MAX_INPUT_BYTES // _MB} MB "
            "is accepted. Trim it to under 30 seconds and try again.",
            "too_big",
            size_mb=round(len(data) / _MB, 1),
            limit_mb=MAX_INPUT_BYTES // _MB,
        )
    pcm, fmt, codec, has_video = _decode(data, limits.max_seconds)
    label = _label(fmt, codec, has_video)
    seconds = pcm.seconds
    notes: list[str] = []
    if not pcm.data:
        raise _refuse(
            "The sound file seems damaged: no sound could be read from it. Re-export it as MP3.",
            "damaged",
        )
    if seconds < limits.min_seconds:
        what = "seems damaged after" if not pcm.complete else "is only"
        raise _refuse(
            f"The sound {what} {seconds:.1f} s; it must be at least {limits.min_seconds:g} s long.",
            "too_short",
            seconds=round(seconds, 2),
        )
    if not pcm.complete:
        notes.append(f"the sound file is damaged after {seconds:.1f} s; used the part before")
    trimmed = pcm.truncated or seconds > limits.max_seconds
    if trimmed:
        keep = int(limits.max_seconds * pcm.rate) * 2 * pcm.channels
        del pcm.data[keep:]
        total = f" of {pcm.source_seconds:.0f} s" if pcm.source_seconds else ""
        notes.append(f"used the first {limits.max_seconds:g} s{total} of the sound")
        seconds = pcm.seconds
    if _peak(bytes(pcm.data)) < SILENCE_PEAK:
        notes.append("the sound file seems to be silent")
    passthrough = (
        not trimmed
        and pcm.complete
        and len(data) <= limits.max_bytes
        and ((fmt == "wav" and codec in _PCM_CODECS) or (fmt == "mp3" and codec in _MP3_CODECS))
    )
    if passthrough:
        ext = "wav" if fmt == "wav" else "mp3"
        mime = "audio/wav" if ext == "wav" else "audio/mpeg"
        return PreparedAudio(data, mime, _safe_name(filename, ext), seconds, tuple(notes), fmt)
    bitrate = _mp3_bitrate(seconds, pcm.channels, limits.max_bytes)
    encoded = (
        b"" if bitrate is None else _encode_mp3(bytes(pcm.data), pcm.rate, pcm.channels, bitrate)
    )
    if not encoded or len(encoded) > limits.max_bytes:
        raise _refuse(
            f"The sound can't be made smaller than {limits.max_bytes // _MB or 1} MB. "
            "Send a shorter clip.",
            "cannot_shrink",  # not "too_big": a different message needs its own key
            limit_mb=limits.max_bytes // _MB or 1,
        )
    if label != "MP3":
        notes.insert(0, f"converted from {label} to MP3")
    return PreparedAudio(
        encoded, "audio/mpeg", _safe_name(filename, "mp3"), seconds, tuple(notes), fmt
    )
