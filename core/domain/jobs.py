"""Jobs: what a user asked for, where to answer, and where it stands.

``JobStatus`` and ``TRANSITIONS`` are the single documented state machine; the service checks
every change against it and storage keeps the string value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from core.domain.catalog import Model, find_model
from core.domain.errors import AnimateError, Kind


class JobStatus(StrEnum):
    #: recorded locally, waiting for a submit slot (per-model concurrency / RPS)
    QUEUED = "queued"
    #: a create request is (about to be) in flight; the row exists before the call
    SUBMITTING = "submitting"
    #: the create was sent but its answer was lost; reconcile via the task list (a create the
    #: list proves was never made goes back to QUEUED, once)
    SUBMIT_UNKNOWN = "submit_unknown"
    #: DashScope accepted the task and has it queued (mirrors PENDING)
    PENDING = "pending"
    #: DashScope is generating (mirrors RUNNING)
    RUNNING = "running"
    #: DashScope finished; the video URL is known but not yet on our disk
    SUCCEEDED = "succeeded"
    #: the MP4 is on our disk; ready to deliver
    DOWNLOADED = "downloaded"
    #: the outcome (the video, or the failure / cancel / expiry notice) is posted (final)
    DELIVERED = "delivered"
    #: generation or submit failed for good; the error code and message say why
    FAILED = "failed"
    #: canceled by the requester or a moderator (final once notified)
    CANCELED = "canceled"
    #: DashScope forgot the task (UNKNOWN after 24 h) or the result URL expired
    EXPIRED = "expired"
    #: posting the result failed permanently (thread gone, no permission) (final)
    DELIVERY_FAILED = "delivery_failed"

    @property
    def final(self) -> bool:
        return self in FINAL

    @property
    def active(self) -> bool:
        """Still needs work from the engine (submit, poll or download)."""
        return self in ACTIVE


FINAL = frozenset({JobStatus.DELIVERED, JobStatus.DELIVERY_FAILED})
#: failure outcomes: final for the engine, but the user still has to be told
ENDED_WITHOUT_VIDEO = frozenset({JobStatus.FAILED, JobStatus.CANCELED, JobStatus.EXPIRED})
ACTIVE = frozenset(
    {
        JobStatus.QUEUED,
        JobStatus.SUBMITTING,
        JobStatus.SUBMIT_UNKNOWN,
        JobStatus.PENDING,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
    }
)

#: statuses that hold one of the account's per-model slots (or might: unknown submits)
SLOT_STATUSES = frozenset(
    {JobStatus.SUBMITTING, JobStatus.SUBMIT_UNKNOWN, JobStatus.PENDING, JobStatus.RUNNING}
)
#: statuses whose outcome still has to be posted to the chat
OUTCOME_STATUSES = frozenset({JobStatus.DOWNLOADED, *ENDED_WITHOUT_VIDEO})

_S = JobStatus
#: every allowed change; anything else is a bug and is refused by the service
TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType(
    {
        _S.QUEUED: frozenset({_S.SUBMITTING, _S.CANCELED, _S.FAILED}),
        _S.SUBMITTING: frozenset(
            {_S.PENDING, _S.RUNNING, _S.QUEUED, _S.SUBMIT_UNKNOWN, _S.FAILED, _S.CANCELED}
        ),
        # back to QUEUED only when the task list proved the create was never made (once)
        _S.SUBMIT_UNKNOWN: frozenset(
            {_S.QUEUED, _S.PENDING, _S.RUNNING, _S.SUCCEEDED, _S.FAILED, _S.CANCELED, _S.EXPIRED}
        ),
        _S.PENDING: frozenset({_S.RUNNING, _S.SUCCEEDED, _S.FAILED, _S.CANCELED, _S.EXPIRED}),
        _S.RUNNING: frozenset({_S.SUCCEEDED, _S.FAILED, _S.CANCELED, _S.EXPIRED}),
        _S.SUCCEEDED: frozenset({_S.DOWNLOADED, _S.FAILED, _S.EXPIRED}),
        _S.DOWNLOADED: frozenset({_S.DELIVERED, _S.DELIVERY_FAILED}),
        # failed / canceled / expired jobs still owe the user a notice: DELIVERED once posted
        _S.FAILED: frozenset({_S.DELIVERED, _S.DELIVERY_FAILED}),
        _S.CANCELED: frozenset({_S.DELIVERED, _S.DELIVERY_FAILED}),
        _S.EXPIRED: frozenset({_S.DELIVERED, _S.DELIVERY_FAILED}),
        _S.DELIVERED: frozenset(),
        _S.DELIVERY_FAILED: frozenset(),
    }
)


def can_transition(old: JobStatus, new: JobStatus) -> bool:
    return new in TRANSITIONS[old]


def progress_key(status: JobStatus, position: int | None = None) -> str:
    """What a status message shows, as ``JobRecord.progress_status`` records it: the status,
    and for a waiting job its place in the queue (``queued#3``), so a move is seen as a change."""
    if status is JobStatus.QUEUED and position:
        return f"{status.value}#{position}"
    return status.value


def progress_status_of(key: str | None) -> str | None:
    """The status part of a ``progress_key``."""
    return None if key is None else key.split("#", 1)[0]


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a job came from and where to answer, as platform-neutral string ids."""

    platform: str  # "discord"
    user: str
    channel: str
    guild: str | None = None  # None in DMs
    thread: str | None = None  # where results go (a thread, or the channel itself)
    status_message: str | None = None  # the public status message to edit
    locale: str = "en-US"


def require_requester(chat: ChatRef, user: str, *, moderator: bool, action: str) -> None:
    """Only the person who started a job (or a moderator) may spend or stop it: ``action`` is
    ``"cancel"``, ``"regenerate"`` or ``"extend"`` (continuing its video spends like a
    regeneration). One rule for the facade and for a front-end that must answer a click
    before the job's message is recorded."""
    if chat.user == user or moderator:
        return
    if action == "extend":
        raise AnimateError(
            "Only the person who started this job (or a moderator) can extend its video; "
            "use /animate with the clip option to continue a video of your own.",
            key="extend.not_yours",
            kind=Kind.PERMISSION,
        )
    if action == "cancel":
        raise AnimateError(
            "Only the person who started this job (or a moderator) can cancel it.",
            key="cancel.not_yours",
            kind=Kind.PERMISSION,
        )
    raise AnimateError(
        "Only the person who started this job (or a moderator) can regenerate it; "
        "use /animate to make your own.",
        key="regenerate.not_yours",
        kind=Kind.PERMISSION,
    )


@dataclass(frozen=True, slots=True)
class JobSpec:
    """The generation parameters of a job (validated against the catalog before recording)."""

    model: str
    prompt: str | None
    resolution: str
    duration: int
    negative_prompt: str | None = None
    seed: int | None = None
    prompt_extend: bool = True
    watermark: bool = False
    sound: bool = True
    template: str | None = None
    aspect: str = "original"
    fill: str = "crop"  # how to reach ``aspect``: centre crop, or pad with a blurred copy
    #: the output ratio DashScope makes (Wan 3.0 ``parameters.ratio``; None on other models)
    ratio: str | None = None

    @property
    def catalog_model(self) -> Model:
        """The catalog model of a validated spec (``model`` is its catalog id); an error with
        a message when a newer release dropped it from the catalog."""
        found = find_model(self.model)
        if found is None:
            raise AnimateError(
                f"The model {self.model} is no longer offered; start a new job with another.",
                key="job.model_gone",
                params={"model": self.model},
                kind=Kind.INVALID_INPUT,
            )
        return found


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as front-ends see it: everything needed to render a status, result or failure."""

    id: int
    status: JobStatus
    spec: JobSpec
    chat: ChatRef
    created_at: datetime
    updated_at: datetime
    region: str = "cn-beijing"
    task_id: str | None = None
    queue_position: int | None = None  # 1 = next to submit; None when not queued locally
    eta: datetime | None = None  # expected finish (aware UTC)
    starts_at: datetime | None = None  # while queued: expected submit (aware UTC)
    cost_estimate: float = 0.0
    currency: str = "CNY"
    cost: float | None = None  # billed cost once known (usage × unit price)
    #: the price per output second the job was quoted at; None: no price is known (the
    #: estimate is then unknown, not zero)
    unit_price: float | None = None
    usage_seconds: float | None = None  # billed output seconds once known
    orig_prompt: str | None = None
    actual_prompt: str | None = None
    seed_used: int | None = None
    error_code: str | None = None  # core error kind / DashScope code, for logs and mapping
    error_message: str | None = None  # user-safe text
    error_subject: str | None = None  # which input a moderation/validation failure concerns
    #: the error's stable key and the values its message names: a front-end renders these in
    #: the user's language (``error_message`` is the English text)
    error_key: str | None = None
    error_params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    video_path: str | None = None  # local MP4 once downloaded
    video_url: str | None = None  # DashScope URL (expires)
    video_url_expires_at: datetime | None = None
    posted_message_id: str | None = None  # the result/failure message, once posted
    parent_job_id: int | None = None  # set on regenerations
    #: the job continues a clip of this many seconds (wan2.7 ``first_clip``): its duration is
    #: the whole output, the clip included, and DashScope bills all of it
    clip_seconds: float | None = None
    last_frame: bool = False  # the video ends on an end image the user gave
    #: what the media pipeline changed in the inputs ("rotated upright", "converted from M4A
    #: to MP3"): only on the view ``submit`` returns, never stored
    notes: tuple[str, ...] = ()

    @property
    def price_known(self) -> bool:
        return self.unit_price is not None


def being_posted(job: JobView) -> bool:
    """Whether one of the job's messages may be on screen before the job records it: the
    status message (posted, then recorded) while the job is active, or the result or failure
    notice (posted, then recorded) once the engine is done with it. A click on such a message
    is asked to try again, not refused as foreign."""
    if job.chat.status_message is None and job.status.active:
        return True
    return job.posted_message_id is None and (
        job.status is JobStatus.DOWNLOADED or job.status in ENDED_WITHOUT_VIDEO
    )
