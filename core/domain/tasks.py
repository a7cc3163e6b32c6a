"""Provider-facing value objects: what a task request is and what a task query says.

``providers/`` turns DashScope JSON into these; nothing outside ``providers/`` sees raw JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.domain.catalog import Model
from core.domain.errors import ProviderError


class TaskStatus(StrEnum):
    """DashScope's task states (reference §8.1)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"  # unknown id or older than 24 h

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(
    {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.UNKNOWN}
)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """Bytes of an input file with what we know about them (already validated/normalised)."""

    data: bytes
    mime: str  # e.g. image/png, audio/mpeg
    filename: str


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """One video task as the provider should create it.

    Built by the engine from a validated job: the provider trusts it (it refuses only what only
    it can know, such as a model its region lacks). ``model`` is the catalog model; the provider
    maps it to the region's wire id and its family's path and body.
    ``image`` (the first frame) and ``last_frame`` are sent as ``data:`` URIs; ``image`` is None
    when the task continues a clip. ``audio`` goes through the temporary-upload flow unless
    ``audio_url`` (a public URL, or the ``oss://`` URL of an earlier ``upload_file``) is given;
    a clip is only ever sent as such a URL (``clip_url``).
    """

    model: Model
    image: MediaFile | None
    prompt: str | None = None
    negative_prompt: str | None = None
    resolution: str | None = None
    duration: int | None = None
    seed: int | None = None
    prompt_extend: bool | None = None
    watermark: bool | None = None
    sound: bool | None = None  # parameters.audio (wan2.6-i2v-flash, Wan 3.0)
    audio: MediaFile | None = None
    audio_url: str | None = None
    template: str | None = None
    last_frame: MediaFile | None = None
    clip_url: str | None = None  # wan2.7 first_clip: public or oss:// URL of an mp4/mov
    ratio: str | None = None  # Wan 3.0 parameters.ratio


@dataclass(frozen=True, slots=True)
class Usage:
    """What DashScope bills for a finished task."""

    seconds: float  # billed seconds: the whole output (a continued clip included)
    resolution_tier: int | None = None  # usage.SR: 480 / 720 / 1080
    video_count: int = 1
    sound: bool | None = None
    #: the continued clip's seconds and the newly generated ones, where reported (wan2.6+)
    input_seconds: float | None = None
    output_seconds: float | None = None
    ratio: str | None = None  # Wan 3.0: the ratio it made, e.g. "16:9"


@dataclass(frozen=True, slots=True)
class TaskInfo:
    task_id: str
    status: TaskStatus
    video_url: str | None = None
    orig_prompt: str | None = None
    actual_prompt: str | None = None
    code: str | None = None  # task-level failure code (output.code)
    message: str | None = None  # task-level failure message (for logs)
    usage: Usage | None = None
    submit_time: datetime | None = None
    scheduled_time: datetime | None = None
    end_time: datetime | None = None
    request_id: str | None = None
    #: for FAILED (and UNKNOWN) tasks: the task-level code mapped to a typed, user-safe error
    #: (kind, retryable, subject), so the engine never interprets DashScope codes itself
    error: ProviderError | None = None


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """One row of the task-list endpoint (used to reconcile unknown submits)."""

    task_id: str
    status: TaskStatus
    model: str | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """A pushed notice that a task finished (DashScope → EventBridge → our endpoint).

    It carries no result: the task is queried once for its video URL or error. ``event_id`` is
    unique per event (a duplicate or a replay repeats it); ``model`` is the last part of
    ``user_api_unique_key`` when present.
    """

    event_id: str
    task_id: str
    status: TaskStatus
    model: str | None = None
