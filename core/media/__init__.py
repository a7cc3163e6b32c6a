"""Media pipeline: user images and audio in, DashScope-ready files out; result videos fitted.

Pillow and PyAV are imported only under this package (ARCHITECTURE layout rule). Every function
here is CPU-bound and synchronous; async callers go through :class:`MediaPool`.
"""

from core.domain.catalog import ASPECTS, FILLS
from core.media.audio import PreparedAudio, prepare_audio
from core.media.clip import (
    CLIP_LIMITS,
    ClipInfo,
    ClipLimits,
    check_clip,
    check_clip_file,
    looks_like_video,
)
from core.media.extend import cut_last
from core.media.image import NormalisedImage, normalise_image
from core.media.pool import MediaPool
from core.media.video import FitResult, VideoError, VideoInfo, fit_video, poster_frame, probe_video

__all__ = [
    "ASPECTS",
    "CLIP_LIMITS",
    "FILLS",
    "ClipInfo",
    "ClipLimits",
    "FitResult",
    "MediaPool",
    "NormalisedImage",
    "PreparedAudio",
    "VideoError",
    "VideoInfo",
    "check_clip",
    "check_clip_file",
    "cut_last",
    "fit_video",
    "looks_like_video",
    "normalise_image",
    "poster_frame",
    "prepare_audio",
    "probe_video",
]
