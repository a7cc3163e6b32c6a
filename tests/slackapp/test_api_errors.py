from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from slackapp.api_errors import Pace, delivery_error


def slack_error(error: str, status: int = 200, **headers: str) -> SlackApiError:
    response = AsyncSlackResponse(
        client=AsyncWebClient(),
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error, "needed": "files:write"},
        headers=headers,
        status_code=status,
    )
    return SlackApiError(error, response)  # type: ignore[no-untyped-call]  # untyped in slack_sdk


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        ("channel_not_found", True),
        ("is_archived", True),
        ("posting_to_channel_denied", True),
        ("restricted_action", True),
        ("internal_error", False),
        ("fatal_error", False),
        ("invalid_auth", False),  # the port stops asking instead (not ready)
        ("some_new_error", False),  # unknown: retried a few times, then given up
    ],
)
def test_what_an_error_means_for_delivery(error: str, permanent: bool) -> None:
    assert delivery_error(slack_error(error), "chat.postMessage").permanent is permanent


def test_a_429_carries_retry_after_and_missing_scope_names_it() -> None:
    limited = delivery_error(slack_error("ratelimited", 429, **{"Retry-After": "30"}), "x")
    assert limited.retry_after == 30.0 and not limited.permanent
    no_header = delivery_error(slack_error("ratelimited", 429), "x")
    assert no_header.retry_after == 1.0
    scope = delivery_error(slack_error("missing_scope"), "files.getUploadURLExternal")
    assert "files:write" in scope.reason and not scope.permanent
    assert not delivery_error(OSError("reset"), "x").permanent


def test_pace_allows_count_per_window_and_says_how_long_to_wait() -> None:
    now = [0.0]
    pace = Pace(2, 60.0, now=lambda: now[0])
    assert pace.take() == 0.0 and pace.take() == 0.0
    now[0] = 10.0
    assert pace.take() == 50.0, "the first call leaves the window at 60 s"
    now[0] = 60.0  # both calls of t=0 have left the window
    assert pace.take() == 0.0 and pace.take() == 0.0
    assert pace.take() == 60.0
