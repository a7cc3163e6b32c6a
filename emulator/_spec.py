"""``TaskSpec``: a validated create request, everything the task store and the renderer need."""

from __future__ import annotations

from dataclasses import dataclass

from emulator._rules import ModelRule


@dataclass(frozen=True)
class TaskSpec:
    model: str
    rule: ModelRule
    prompt: str | None
    negative_prompt: str | None
    resolution: str
    duration: int  # total output seconds, a first_clip included (what is billed)
    has_audio: bool
    audio_param: bool | None
    seed: int | None
    prompt_extend: bool
    watermark: bool
    template: str | None
    shot_type: str | None
    image: bytes | None  # first frame (Wan 3.0: else the first reference image)
    audio: bytes | None
    width: int
    height: int
    region: str = "any"
    media_types: tuple[str, ...] = ()
    has_last_frame: bool = False
    last_image: bytes | None = None  # None with has_last_frame: a remote image, never fetched
    last_label: str = ""  # seeds the placeholder drawn for a remote last frame
    clip: bytes | None = None  # first_clip bytes; None for a remote clip
    clip_seconds: float = 0.0  # 0: no first_clip
    ratio: str | None = None  # Wan 3.0 output ratio label
    input_video_seconds: float = 0.0  # Wan 3.0 reference videos
    # An input error that surfaces as a FAILED task rather than HTTP 400 (§5.3, §5.5).
    deferred_error: tuple[str, str] | None = None
