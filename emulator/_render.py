"""Render a real MP4 (H.264 yuv420p, 30 fps, optional AAC) that reflects the request.

Blocking and CPU-bound: call it through ``asyncio.to_thread``. The output is
``duration × fps`` frames: a first clip's own frames first (continuation, §5.3), then a slow
Ken Burns zoom/pan over the first frame (or the clip's last frame) that, with a last frame,
turns into that image and ends exactly on it. Only every second generated frame is
re-sampled, which halves the scaling cost and keeps 1080P × 15 s renders at a few seconds.
"""

from __future__ import annotations

import array
import io
import logging
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from PIL import Image

from emulator._frames import canvas, clip_frames, cover, generated, ken_burns, load_image, to_frame

log = logging.getLogger(__name__)

FPS = 30
SAMPLE_RATE = 44100


@dataclass(frozen=True)
class RenderJob:
    width: int
    height: int
    duration: int  # total seconds, a first clip included
    fps: int
    image: bytes | None
    audio: bytes | None
    has_audio: bool
    watermark: bool
    label: str
    max_side: int | None = None
    pad_to_bytes: int | None = None
    last_label: str | None = None  # not None: end on the last frame (bytes or a placeholder)
    last_image: bytes | None = None
    clip: bytes | None = None
    clip_seconds: float = 0.0  # > 0: start with the first clip (bytes or a placeholder)


def render_mp4(job: RenderJob) -> bytes:
    width, height = _capped(job.width, job.height, job.max_side)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        video = container.add_stream(
            "libx264", rate=job.fps, options={"preset": "ultrafast", "crf": "28"}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if job.has_audio:
            audio = container.add_stream("aac", rate=SAMPLE_RATE)
            audio.layout = "mono"
        tick = Fraction(1, job.fps)
        for index, frame in enumerate(_frames(job, width, height)):
            # Clip frames arrive in the clip's time base: every frame is restamped at ``fps``.
            frame.pts, frame.time_base = index, tick
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            _encode_audio(container, audio, job)
    data = buf.getvalue()
    log.info("rendered %dx%d %ds mp4 (%d bytes)", width, height, job.duration, len(data))
    return _pad(data, job.pad_to_bytes)


def _frames(job: RenderJob, width: int, height: int) -> Iterator[av.VideoFrame]:
    """The output frames in order: the clip part, then the generated part."""
    total = job.duration * job.fps
    clip_count = min(round(job.clip_seconds * job.fps), total) if job.clip_seconds else 0
    source: Image.Image | None = None
    if clip_count and job.clip is not None:
        last: av.VideoFrame | None = None
        for raw in clip_frames(job.clip, clip_count, job.fps):
            last = raw
            yield _clip_frame(raw, width, height, job.watermark)
        if last is not None:
            # the continuation picks up where the clip ends
            source = last.to_image()  # type: ignore[no-untyped-call]  # PyAV stub gap
    elif clip_count:  # a remote clip, never fetched: its stand-in moves like a video
        source = load_image(None, "clip:" + job.label)
        backdrop = canvas(source, width, height)
        for index in range(clip_count):
            picture = ken_burns(backdrop, width, height, index / max(clip_count - 1, 1))
            yield to_frame(picture, width, height, job.watermark)
    if source is None:
        source = load_image(job.image, job.label)
    end = None
    if job.last_label is not None:
        end = cover(load_image(job.last_image, "last:" + job.last_label), width, height)
    backdrop = canvas(source, width, height)
    count = total - clip_count
    frame: av.VideoFrame | None = None
    for index in range(count):
        if frame is None or index % 2 == 0 or index == count - 1:
            t = index / max(count - 1, 1)
            frame = generated(backdrop, width, height, t, end, job.watermark)
        yield frame


def _clip_frame(raw: av.VideoFrame, width: int, height: int, watermark: bool) -> av.VideoFrame:
    if watermark:
        picture = raw.to_image()  # type: ignore[no-untyped-call]  # PyAV stub gap
        return to_frame(picture, width, height, watermark=True)
    scaled: av.VideoFrame = raw.reformat(
        width=width, height=height, format="yuv420p", interpolation="FAST_BILINEAR"
    )
    return scaled


def _capped(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(int(width * scale) // 2 * 2, 16), max(int(height * scale) // 2 * 2, 16)


def _encode_audio(
    container: av.container.OutputContainer, stream: av.AudioStream, job: RenderJob
) -> None:
    total = job.duration * SAMPLE_RATE
    pcm = _decoded_audio(job.audio, total) if job.audio is not None else None
    if pcm is None:
        pcm = _tone(total)
    pcm = pcm[: total * 2].ljust(total * 2, b"\x00")  # shorter audio → silent tail (§6.4)
    chunk = 1024
    for start in range(0, total, chunk):
        samples = min(chunk, total - start)
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.planes[0].update(pcm[start * 2 : (start + samples) * 2])
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _tone(total: int) -> bytes:
    second = array.array(
        "h", (int(2500 * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE)) for i in range(SAMPLE_RATE))
    ).tobytes()
    return (second * (total // SAMPLE_RATE + 1))[: total * 2]


def _decoded_audio(data: bytes, total: int) -> bytes | None:
    """The uploaded audio as 44.1 kHz mono s16 PCM (at most ``total`` samples), or None."""
    try:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        out = bytearray()
        with av.open(io.BytesIO(data), "r") as src:
            for frame in src.decode(audio=0):
                for resampled in resampler.resample(frame):
                    out += bytes(resampled.planes[0])[: resampled.samples * 2]
                if len(out) >= total * 2:
                    break
        return bytes(out)
    except (av.FFmpegError, IndexError, ValueError):
        log.warning("uploaded audio could not be decoded; using a generated tone")
        return None


def _pad(data: bytes, target: int | None) -> bytes:
    """Append an ISO-BMFF ``free`` box so the file stays a valid MP4 of about ``target`` bytes."""
    if target is None or target <= len(data):
        return data
    size = max(target - len(data), 8)
    return data + struct.pack(">I", size) + b"free" + bytes(size - 8)
