"""What a Slack Web API failure means for delivery, and a pace for edits (§9, §10).

``chat.postMessage`` and ``files.completeUploadExternal`` are not idempotent (§7.4): the clients
the port uses have no connection-error retry, so a lost answer comes here as a transient
``DeliveryError`` and the engine asks ``find_posted`` before trying again. A 429 carries Slack's
``Retry-After`` to the engine, which waits at least that long (the delivery pass never sleeps
on it).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from core.ports import DeliveryError

#: the bot token no longer works (revoked, app removed, account gone): stop delivering
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
#: the conversation is gone or closed to the bot: retrying cannot help
PLACE_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "is_inactive",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "posting_to_channel_denied",
        "team_access_not_granted",
        "invalid_channel",
        "thread_not_found",
    }
)
#: the workspace refuses the file itself: post the link instead (§10)
FILE_POLICY_ERRORS = frozenset(
    {
        "file_upload_size_restricted",
        "file_uploads_disabled",
        "file_type_not_allowed",
        "file_uploads_except_images_disabled",
        "storage_limit_reached",
    }
)

TRANSIENT = (aiohttp.ClientError, TimeoutError, SlackRequestError, OSError)


def error_of(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "")


def retry_after(exc: SlackApiError) -> float | None:
    raw = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def delivery_error(exc: BaseException, what: str) -> DeliveryError:
    """``exc`` from ``what`` (a method name) as the engine's ``DeliveryError``."""
    if not isinstance(exc, SlackApiError):
        return DeliveryError(f"{what}: {type(exc).__name__}", permanent=False)
    error = error_of(exc)
    reason = f"{what}: {error or exc.response.status_code}"
    if exc.response.status_code == 429 or error == "ratelimited":
        return DeliveryError(reason, permanent=False, retry_after=retry_after(exc) or 1.0)
    if error == "missing_scope":
        needed = exc.response.get("needed")
        return DeliveryError(f"{reason} (needs {needed}; reinstall the app)", permanent=False)
    return DeliveryError(reason, permanent=error in PLACE_ERRORS)


class Pace:
    """At most ``count`` calls in any ``window`` seconds, kept below a rate tier so edits never
    starve the posts that matter (chat.update is Tier 3, 50+/min per workspace, §9)."""

    def __init__(
        self, count: int, window: float = 60.0, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.count = count
        self.window = window
        self.now = now
        self._calls: deque[float] = deque()

    def take(self) -> float:
        """0 and a slot taken, or the seconds until one frees up (nothing taken)."""
        now = self.now()
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()
        if len(self._calls) >= self.count:
            return self._calls[0] + self.window - now
        self._calls.append(now)
        return 0.0
