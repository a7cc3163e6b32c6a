"""Errors that carry a user-safe message.

Every error a user can see derives from :class:`AnimateError`. ``message`` is safe to show in chat
(no keys, no signed URLs, no stack traces); ``key`` + ``params`` let a front-end translate it.
Provider errors also carry the HTTP facts (status, DashScope code, request id) for logs, and say
whether retrying the same request later can help.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    INVALID_INPUT = "invalid_input"  # the user's input is wrong; fix it and try again
    MODERATION = "moderation"  # content moderation rejected an input or the output
    QUOTA = "quota"  # account out of money / free tier / allocation quota
    AUTH = "auth"  # missing or wrong API key, or key from another region
    PERMISSION = "permission"  # key valid but not allowed (model not activated, workspace)
    RATE_LIMITED = "rate_limited"  # 429: slow down and try again
    BUSY = "busy"  # the service is overloaded or failing (5xx); try again later
    OUTCOME_UNKNOWN = "outcome_unknown"  # a create was sent but its answer was lost
    NOT_FOUND = "not_found"  # unknown model / task
    EXPIRED = "expired"  # task or result past its 24 h life
    CANCELED = "canceled"
    DOWNLOAD = "download"  # the result could not be fetched
    CONFIG = "config"  # the bot is misconfigured (no key, bad base URL)
    INTERNAL = "internal"


class Input(StrEnum):
    """Which input a moderation or validation failure concerns, where known."""

    PROMPT = "prompt"
    NEGATIVE_PROMPT = "negative_prompt"
    IMAGE = "image"
    AUDIO = "audio"
    CLIP = "clip"  # a video to continue (wan2.7 first_clip)
    OUTPUT = "output"
    UNKNOWN = "unknown"


class AnimateError(Exception):
    """Base of every error with a user-safe message."""

    kind: Kind = Kind.INTERNAL
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        kind: Kind | None = None,
        retryable: bool | None = None,
        subject: Input | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key or (kind or self.kind).value
        self.params = dict(params or {})
        if kind is not None:
            self.kind = kind
        if retryable is not None:
            self.retryable = retryable
        self.subject = subject

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind.value!r}, message={self.message!r})"


class ValidationError(AnimateError):
    """The request breaks a documented rule; nothing was sent, nothing spent."""

    kind = Kind.INVALID_INPUT


class ConfigError(AnimateError):
    kind = Kind.CONFIG


class ProviderError(AnimateError):
    """A failure reported by (or while talking to) the video provider."""

    def __init__(
        self,
        message: str,
        *,
        kind: Kind,
        retryable: bool,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        provider_message: str | None = None,
        subject: Input | None = None,
        retry_after: float | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message, key=key, params=params, kind=kind, retryable=retryable, subject=subject
        )
        self.status = status
        self.code = code
        self.request_id = request_id
        #: the provider's own text, for logs only (it may quote the input)
        self.provider_message = provider_message
        self.retry_after = retry_after

    def __str__(self) -> str:
        facts = ", ".join(
            f"{k}={v}"
            for k, v in (
                ("status", self.status),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if v is not None
        )
        return f"{self.message} ({facts})" if facts else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind.value!r}, status={self.status!r}, "
            f"code={self.code!r}, request_id={self.request_id!r}, retryable={self.retryable!r})"
        )


class OutcomeUnknownError(ProviderError):
    """A create request was sent but no answer arrived: a task may or may not exist.

    Never retried blindly (every create is a billed task); the engine reconciles it through the
    task list instead.
    """

    def __init__(self, message: str = "", **kw: Any) -> None:
        kw.setdefault("key", "create.outcome_unknown")
        super().__init__(
            message
            or "The video service did not answer after the request was sent; "
            "checking whether the job was created.",
            kind=Kind.OUTCOME_UNKNOWN,
            retryable=False,
            **kw,
        )
