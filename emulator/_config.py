"""Configuration of the DashScope emulator: timing, limits, faults and the [uncertain] switches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

log = logging.getLogger(__name__)

FaultKind = Literal[
    "create_500",
    "create_503",
    "create_429",
    "create_500_after_create",
    "query_500",
    "query_503",
    "query_429",
    "reset_before_create",
    "reset_after_create",
    "reset_query",
    "moderation_create",
    "moderation_task",
    "ip_infringement_create",
    "ip_infringement_task",
    "malformed_create",
    "malformed_query",
    "task_failure",
    "latency",
]

FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

Region = Literal[
    "any",
    "cn-beijing",
    "ap-southeast-1",
    "us-east-1",
    "eu-central-1",
    "ap-northeast-1",
    "cn-hongkong",
]
REGIONS: tuple[str, ...] = get_args(Region)
ConcurrencyMode = Literal["queue", "reject"]
# Where an illegal ``media`` combination surfaces: HTTP 400 at create or a FAILED task (§5.3/5.5).
ErrorStage = Literal["create", "task"]
RetryStrategy = Literal["BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY", "NONE"]
PushAuth = Literal["none", "api-key", "basic"]


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities (0..1) of each fault kind per eligible request.

    ``create_*`` apply to the create POST, ``query_*`` to ``GET /tasks/{id}`` (and list/cancel).
    ``create_500_after_create`` and ``reset_after_create`` first create the task and then fail the
    response: the ambiguous case where a client retry would duplicate the task.
    ``moderation_task`` / ``ip_infringement_task`` / ``task_failure`` make the task end FAILED.
    ``latency`` adds ``latency_seconds`` of real time before the response.
    """

    create_500: float = 0.0
    create_503: float = 0.0
    create_429: float = 0.0
    create_500_after_create: float = 0.0
    query_500: float = 0.0
    query_503: float = 0.0
    query_429: float = 0.0
    reset_before_create: float = 0.0
    reset_after_create: float = 0.0
    reset_query: float = 0.0
    moderation_create: float = 0.0
    moderation_task: float = 0.0
    ip_infringement_create: float = 0.0
    ip_infringement_task: float = 0.0
    malformed_create: float = 0.0
    malformed_query: float = 0.0
    task_failure: float = 0.0
    latency: float = 0.0
    latency_seconds: float = 0.5
    task_failure_code: str = "InternalError.Algo"
    task_failure_message: str = "inference internal error."

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in FAULT_KINDS:
                value = getattr(self, f.name)
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"fault probability {f.name}={value} is not within 0..1")

    def probability(self, kind: str) -> float:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        value: float = getattr(self, kind)
        return value


@dataclass(frozen=True)
class PushConfig:
    """EventBridge-style completion push (§14): POST the §14.3 CloudEvent to ``url``.

    ``token`` travels as the ``api_key_header`` value (``auth="api-key"``, an API_KEY_AUTH
    connection) or as the password of HTTP Basic auth (``auth="basic"``, BASIC_AUTH) (§14.4).
    ``loss``/``duplicate``/``replay`` are probabilities per event; a replay re-sends the same
    event ``replay_delay`` simulated seconds later. Retry intervals follow ``retry_strategy``
    (§14.5) and, like every simulated duration, are multiplied by ``time_scale``;
    ``max_retries`` caps the strategy's own count. ``timeout`` is real seconds per attempt.
    """

    url: str
    auth: PushAuth = "none"
    token: str | None = field(default=None, repr=False)
    api_key_header: str = "x-api-key"
    basic_user: str = "eventbridge"
    loss: float = 0.0
    duplicate: float = 0.0
    replay: float = 0.0
    replay_delay: float = 60.0
    retry_strategy: RetryStrategy = "BACKOFF_RETRY"
    max_retries: int | None = None
    timeout: float = 5.0
    include_canceled: bool = False  # [uncertain] whether CANCELED tasks emit an event
    account_id: str = "1000000000000000"
    # [uncertain] the documented format is apikey:version:group:task:function-call:model
    unique_key_format: str = "apikey:v1:aigc:{task}:video-synthesis:{model}"

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "replay"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"push {name}={value} is not within 0..1")
        if self.auth != "none" and not self.token:
            raise ValueError(f"push auth {self.auth!r} needs a token")
        if self.max_retries is not None and self.max_retries < 0:
            raise ValueError("push max_retries must be >= 0")
        if self.timeout <= 0 or self.replay_delay < 0:
            raise ValueError("push timeout must be positive and replay_delay >= 0")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour.

    Durations are simulated seconds on ``clock``; ``time_scale`` multiplies all of them (run
    times, queue delay, the 24 h task and result expiry). Rate-limit windows (1 s) and the
    upload-policy lifetime are real protocol timings and are *not* scaled.
    """

    api_key: str | None = None
    time_scale: float = 1.0
    clock: Callable[[], float] = time.time
    durations: Mapping[str, float] | None = None
    duration_sigma: float = 0.25
    queue_delay: float = 2.0
    concurrency_mode: ConcurrencyMode = "queue"
    enforce_rate_limits: bool = True
    seed: int | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    strict_2025_images: bool = False
    pad_video_to_bytes: int | None = None
    render_max_side: int | None = None
    # --- [uncertain] points of the reference, lenient by default ---
    region: Region = "any"
    unknown_model_404: bool = False
    strict_audio_param: bool = False
    templates_on_singapore_ids: bool = True
    list_tasks_alias: bool = False
    timestamp_utc_offset_hours: float = 8.0
    task_ttl: float = 86400.0
    result_ttl: float = 86400.0
    upload_policy_ttl: float = 300.0
    upload_file_ttl: float = 172800.0
    query_qps: int = 20
    policy_qps: int = 100
    wan25_fps: int = 30
    # Per-model (submit RPS, concurrent tasks) overrides, e.g. for Wan 3.0 whose limits are
    # not documented (default 5/5).
    model_limits: Mapping[str, tuple[int, int]] | None = None
    # --- regions and hosts (§1, §1.1) ---
    # A Host header naming a documented DashScope host selects that region's catalog.
    region_from_host: bool = True
    workspace_id: str | None = None  # bind workspace hosts: other ids → 401 NOT AUTHORIZED
    sg_wan22_flash: Literal["yes", "no-1080p", "no"] = "yes"  # S-VGEN vs S-RL / S-PRICE
    us_wan27: bool = False  # only the guide's "try online" link lists Virginia
    de_wan26_durations: Literal["5-10-15", "2-15"] = "5-10-15"  # not stated for Frankfurt
    # --- wan2.7 media protocol (§5.3) ---
    wan27_media_errors: ErrorStage = "create"
    wan27_legacy_keys: Literal["ignore", "reject"] = "ignore"
    reject_duration_within_clip: bool = True
    continuation_usage: Literal["split", "output-only"] = "split"
    remote_clip_seconds: float = 2.0  # http(s) clips are never fetched; 2 s is the minimum
    # --- kf2v (§5.4) ---
    kf2v_require_last_frame: bool = False
    kf2v_2026_image_limits: bool = False
    # --- Wan 3.0 (§5.5) ---
    wan30_media_errors: ErrorStage = "task"
    wan30_adaptive_snaps: bool = True  # "adaptive" snaps to the nearest listed ratio
    wan30_smart_duration: int = 5  # what duration -1 ("smart") renders
    validation_failure_seconds: float = 1.0  # run time of a task that FAILs on its input
    # --- EventBridge push (§14) ---
    push: PushConfig | None = None

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if self.duration_sigma < 0:
            raise ValueError("duration_sigma must be >= 0")
        if self.queue_delay < 0:
            raise ValueError("queue_delay must be >= 0")
        if self.concurrency_mode not in ("queue", "reject"):
            raise ValueError("concurrency_mode must be 'queue' or 'reject'")
        if self.render_max_side is not None and self.render_max_side < 16:
            raise ValueError("render_max_side must be >= 16")
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}")
        if not 2 <= self.wan30_smart_duration <= 30:
            raise ValueError("wan30_smart_duration must be within 2..30")
        if self.remote_clip_seconds <= 0:
            raise ValueError("remote_clip_seconds must be positive")
        for model, (rps, concurrency) in (self.model_limits or {}).items():
            if rps < 1 or concurrency < 1:
                raise ValueError(f"model_limits[{model!r}] must be positive")

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale
