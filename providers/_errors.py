"""DashScope HTTP statuses and codes → typed core errors with user-safe messages.

One table per concern (reference §9, §7.2): the HTTP status picks the family, the DashScope code
refines it, and for moderation the message text says which input was rejected. Provider text is
kept in ``provider_message`` for logs only; the user sees our own sentence.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from core.domain.errors import Input, Kind, OutcomeUnknownError, ProviderError
from core.domain.tasks import TaskInfo, TaskStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """The parts of a DashScope error body we use (any of them may be missing)."""

    code: str | None
    message: str | None
    request_id: str | None


def parse_error_body(raw: bytes) -> ErrorBody:
    """Read ``{"code","message"|"msg","request_id"}``; non-JSON bodies never raise."""
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        text = raw.decode("utf-8", errors="replace").strip()
        return ErrorBody(None, text[:300] or None, None)
    if not isinstance(data, dict):
        return ErrorBody(None, str(data)[:300], None)
    raw_output = data.get("output")
    output: dict[str, object] = raw_output if isinstance(raw_output, dict) else {}
    code = data.get("code") or output.get("code")
    message = data.get("message") or data.get("msg") or output.get("message")
    request_id = data.get("request_id")
    return ErrorBody(
        str(code) if code else None,
        str(message)[:500] if message else None,
        str(request_id) if request_id else None,
    )


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """``Retry-After`` (seconds or HTTP date) or ``retry-after-ms``, as seconds ≥ 0."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


# ---- moderation ---------------------------------------------------------------------------

_SUBJECT_WORDS: tuple[tuple[Input, tuple[str, ...]], ...] = (
    (Input.OUTPUT, ("output",)),
    (Input.AUDIO, ("audio", "voice", "sound")),
    (Input.IMAGE, ("image", "picture", "img", "frame")),
    (Input.PROMPT, ("text", "prompt")),
)

_MODERATION_TEXT = {
    Input.PROMPT: "DashScope's content check rejected the prompt. Rephrase it and try again.",
    Input.NEGATIVE_PROMPT: "DashScope's content check rejected the negative prompt.",
    Input.IMAGE: "DashScope's content check rejected the image. Try a different image.",
    Input.AUDIO: "DashScope's content check rejected the audio. Try a different audio file.",
    Input.OUTPUT: (
        "The generated video was blocked by DashScope's content check. "
        "Try a different prompt or image."
    ),
    Input.UNKNOWN: (
        "DashScope's content check rejected the prompt or the image (it did not say which). "
        "Change one of them and try again."
    ),
}


def moderation_subject(message: str | None) -> Input:
    """Which input a moderation message concerns: "Input image data may…" → IMAGE, etc."""
    text = (message or "").lower()
    # "Input or output data may contain …" names both: we cannot tell
    if "input or output" in text:
        return Input.UNKNOWN
    match = re.search(r"(input|output)\s+(\w+\s+)?data", text)
    scope = match.group(0) if match else text
    for subject, words in _SUBJECT_WORDS:
        if any(w in scope for w in words):
            return subject
    return Input.UNKNOWN


# ---- the mapping --------------------------------------------------------------------------

_QUOTA_CODES = {
    "Arrearage": (
        "The DashScope account is overdue (Arrearage). Top up the Alibaba Cloud account, "
        "then try again."
    ),
    "AllocationQuota.FreeTierOnly": (
        "The model's free quota is used up and the account is set to use the free tier only. "
        "Turn that off in the Model Studio console, or pick another model."
    ),
    "Throttling.AllocationQuota": (
        "The DashScope quota for this model is used up. Raise the quota in the console or "
        "try again later."
    ),
    "insufficient_quota": (
        "The DashScope quota for this model is used up. Raise the quota in the console or "
        "try again later."
    ),
    "CommodityNotPurchased": "Model Studio is not purchased for this workspace (billing).",
    "PrepaidBillOverdue": "The DashScope workspace's prepaid bill is overdue (billing).",
    "PostpaidBillOverdue": "The DashScope workspace's postpaid bill is overdue (billing).",
}

_BUSY_TEXT = "The video service is busy or having trouble. Try again in a few minutes."


@dataclass(frozen=True, slots=True)
class Context:
    """What the mapper needs to phrase a good message."""

    region: str
    host: str
    official: bool
    model: str | None = None
    operation: str = "request"


@dataclass(frozen=True, slots=True)
class _Build:
    """Builds the ``ProviderError`` for one response, carrying its HTTP facts."""

    status: int
    body: ErrorBody
    retry_after: float | None

    def __call__(
        self,
        kind: Kind,
        message: str,
        *,
        key: str,
        params: dict[str, object] | None = None,
        retryable: bool = False,
        subject: Input | None = None,
    ) -> ProviderError:
        return ProviderError(
            message,
            key=key,
            params=params,
            kind=kind,
            retryable=retryable,
            status=self.status,
            code=self.body.code,
            request_id=self.body.request_id,
            provider_message=self.body.message,
            retry_after=self.retry_after if retryable else None,
            subject=subject,
        )


def map_error(
    status: int,
    body: ErrorBody,
    ctx: Context,
    *,
    retry_after: float | None = None,
) -> ProviderError:
    """Turn an HTTP error (or a task-level failure with ``status=200``) into a ``ProviderError``."""
    code = body.code or ""
    low = (body.message or "").lower()
    err = _Build(status, body, retry_after)

    if code in _QUOTA_CODES:
        return err(Kind.QUOTA, _QUOTA_CODES[code], key=f"quota.{code}")
    if code in {"DataInspectionFailed", "data_inspection_failed"} or (
        "datainspectionfailed" in low.replace(".", "")
    ):
        subject = moderation_subject(body.message)
        return err(
            Kind.MODERATION, _MODERATION_TEXT[subject], key=f"moderation.{subject}", subject=subject
        )
    if code == "IPInfringementSuspect":
        return err(
            Kind.MODERATION,
            "DashScope flagged the input as a possible IP infringement (for example a "
            "copyrighted character). Try a different image or prompt.",
            key="moderation.ip_infringement",
            subject=moderation_subject(body.message),
        )
    if status == 401 or code in {"InvalidApiKey", "invalid_api_key", "NOT AUTHORIZED"}:
        return _auth_error(err, code, low, ctx)
    if status == 403 or code.startswith(("AccessDenied", "Model.AccessDenied", "Workspace.")):
        if "policy expired" in low:
            return err(
                Kind.BUSY,
                "The upload credential expired; try again.",
                key="upload.policy_expired",
                retryable=True,
            )
        if "synchronous calls" in low:
            return err(
                Kind.INTERNAL,
                "The bot sent a malformed request (missing async header).",
                key="internal.async_header",
            )
        return err(
            Kind.PERMISSION,
            f"This DashScope account may not use {ctx.model or 'this model'}: Model Studio "
            "must be activated and the model enabled for the workspace.",
            key="permission.model",
            params={"model": ctx.model or ""},
        )
    if status == 404 or code in {"ModelNotFound", "model_not_found"}:
        if "model" in code.lower() or "model" in low:
            return err(
                Kind.NOT_FOUND,
                f"DashScope does not know the model {ctx.model or ''} in region "
                f"{ctx.region}.".replace("  ", " "),
                key="not_found.model",
                params={"model": ctx.model or "", "region": ctx.region},
            )
        return err(
            Kind.NOT_FOUND,
            f"DashScope could not find that {ctx.operation} target.",
            key="not_found.target",
            params={"operation": ctx.operation},
        )
    if status == 429 or code.startswith(("Throttling", "LimitRequests", "limit_")):
        return err(
            Kind.RATE_LIMITED,
            "DashScope's rate limit was hit. The job will be retried shortly.",
            key="rate_limited",
            retryable=True,
        )
    if status == 413 or code == "BadRequest.TooLarge":
        return err(
            Kind.INVALID_INPUT,
            "The request is too large; use a smaller image.",
            key="input.too_large",
            subject=Input.IMAGE,
        )
    if code == "UnsupportedOperation":
        return err(
            Kind.INVALID_INPUT,
            "DashScope refused the operation: a job can only be canceled while it is still "
            "waiting in DashScope's queue.",
            key="cancel.unsupported",
        )
    if code.startswith("InternalError") or code in {"SystemError", "ModelServiceFailed"}:
        if code == "InternalError.Timeout":
            return err(
                Kind.BUSY,
                "DashScope gave up on the video after a long time. Try again later.",
                key="busy.timeout",
                retryable=True,
            )
        return err(Kind.BUSY, _BUSY_TEXT, key="busy", retryable=True)
    if status >= 500 or status == 408 or code == "RequestTimeOut":
        return err(Kind.BUSY, _BUSY_TEXT, key="busy", retryable=True)
    if status == 400 or code.startswith(("InvalidParameter", "BadRequest", "InvalidURL")):
        return _invalid_input(err, code, low)
    if status == 200:  # a FAILED task with a code we do not know
        return err(
            Kind.INTERNAL,
            "DashScope could not make this video. Try again; if it keeps failing, try another "
            "image or prompt.",
            key="task.failed",
            retryable=True,
        )
    return err(
        Kind.INTERNAL,
        f"The video service answered unexpectedly (HTTP {status}).",
        key="provider.unexpected",
        params={"status": status},
    )


def _auth_error(err: _Build, code: str, low: str, ctx: Context) -> ProviderError:
    if code == "NOT AUTHORIZED" or "workspace" in low:
        return err(
            Kind.AUTH,
            "DashScope refused access to the workspace: check the workspace id in "
            "DASHSCOPE_BASE_URL and that the key belongs to it.",
            key="auth.workspace",
        )
    if "no api-key" in low or "no api key" in low:
        return err(
            Kind.AUTH, "No DashScope API key was sent. Set DASHSCOPE_API_KEY.", key="auth.no_key"
        )
    return err(
        Kind.AUTH,
        "DashScope rejected the API key. Keys are per region: a Singapore key does not work "
        f"with the Beijing endpoint (this bot uses {ctx.region} at {ctx.host}; check "
        "DASHSCOPE_REGION / DASHSCOPE_BASE_URL).",
        key="auth.key_rejected",
        params={"region": ctx.region, "host": ctx.host},
    )


def _invalid_input(err: _Build, code: str, low: str) -> ProviderError:
    unreadable = code.startswith(("InvalidParameter.DataInspection", "InvalidURL")) or any(
        w in low for w in ("download", "media", "image", "decode", "url")
    )
    if unreadable and "audio" in low:
        return err(
            Kind.INVALID_INPUT,
            "DashScope could not read the audio. Use a WAV or MP3 file of 3 to 30 seconds.",
            key="input.audio_unreadable",
            subject=Input.AUDIO,
        )
    if unreadable:
        return err(
            Kind.INVALID_INPUT,
            "DashScope could not read the image. Try a JPEG or PNG image.",
            key="input.image_unreadable",
            subject=Input.IMAGE,
        )
    return err(
        Kind.INVALID_INPUT,
        "DashScope rejected the request's settings (model, resolution, duration or effect). "
        "Check them and try again.",
        key="input.settings",
    )


def outcome_unknown(
    reason: str, *, status: int | None = None, body: ErrorBody | None = None
) -> OutcomeUnknownError:
    """The create POST was (maybe) received but we cannot tell whether a task exists."""
    log.warning("create outcome unknown: %s", reason)
    return OutcomeUnknownError(
        status=status,
        code=body.code if body else None,
        request_id=body.request_id if body else None,
        provider_message=reason,
    )


def task_error(info: TaskInfo, ctx: Context) -> ProviderError | None:
    """The typed error of a task that ended without a video (FAILED, CANCELED, UNKNOWN)."""
    if info.status is TaskStatus.FAILED:
        return map_error(200, ErrorBody(info.code, info.message, info.request_id), ctx)
    if info.status is TaskStatus.UNKNOWN:
        return ProviderError(
            "DashScope no longer knows this job (it keeps tasks for 24 hours).",
            key="task.forgotten",
            kind=Kind.EXPIRED,
            retryable=False,
            request_id=info.request_id,
        )
    if info.status is TaskStatus.CANCELED:
        return ProviderError(
            "The job was canceled.", key="job.canceled", kind=Kind.CANCELED, retryable=False
        )
    return None
