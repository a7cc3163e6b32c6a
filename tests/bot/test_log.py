"""Redaction by configured secret and by shape, on every record a handler formats."""

from __future__ import annotations

import logging

import pytest

from bot.log import REDACTED, RedactSecrets, redact
from tests.e2e.harness import captured_logs

ITOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpGYWtlVG9rZW5Gb3JUZXN0cw"
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"
DASH_KEY = "sk-0123456789abcdef0123456789abcdef"
SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
SLACK_USER = "xoxp-1234567890-1234567890-1234567890-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
SLACK_ROTATING = "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MA"


@pytest.mark.parametrize(
    "line",
    [
        # discord.py's own formats (webhook/async_.py and http.py), with the token in the URL
        f"Webhook ID 1300 with POST https://discord.com/api/v10/webhooks/1300/{ITOKEN}"
        "?wait=1 has returned status code 429",
        f"PATCH https://discord.com/api/v10/webhooks/1300/{ITOKEN}/messages/@original with None",
        f"POST https://discord.com/api/v10/interactions/1301/{ITOKEN}/callback has returned 204",
        # gateway event dumps (a dict repr) and JSON bodies
        f"For Shard ID None: WebSocket Event: {{'t': 'INTERACTION_CREATE', 'd': {{'token': "
        f"'{ITOKEN}', 'id': '1'}}}}",
        f'payload {{"token": "{ITOKEN}"}}',
        f"headers {{'Authorization': 'Bot {BOT_TOKEN}'}}",
        f"Authorization: Bearer {DASH_KEY}",
        f"DashScope said: invalid key {DASH_KEY}.",
    ],
)
def test_secret_shapes_are_redacted(line: str) -> None:
    # (Slack token shapes: test_slack_tokens_are_redacted_wherever_they_appear)
    out = redact(line)
    assert ITOKEN not in out and BOT_TOKEN not in out and DASH_KEY not in out
    assert REDACTED in out


@pytest.mark.parametrize("token", [SLACK_BOT, SLACK_APP, SLACK_USER, SLACK_ROTATING])
@pytest.mark.parametrize(
    "template",
    [
        "Slack refused the token {}",  # plain text
        "headers={{'Authorization': 'Bearer {}'}}",  # a header dump
        "kwargs={{'token': '{}', 'channel': 'C1'}}",  # a dict repr of call arguments
        "POST /api/auth.test?token={}&pretty=1",  # a query string
        'body {{"app_token":"{}"}}',  # JSON without spaces
    ],
)
def test_slack_tokens_are_redacted_wherever_they_appear(template: str, token: str) -> None:
    out = redact(template.format(token))
    assert token not in out and REDACTED in out
    # the prefix alone would leak the token kind only; the secret body is gone
    assert token.split("-", 1)[1][:8] not in out


@pytest.mark.parametrize(
    "line",
    [
        "connected as animate-bot#0 to 2 guild(s)",
        "the xoxb- prefix marks a Slack bot token",
        "file animate-12.mp4 shared in xapp-test",
        "Bot user joined; Bearer of good news",
        "job 7: posted to /channels/1300/messages",
        "using the in-process DashScope emulator (key sk-emulator)",
        "the task token budget is 20 per second",
    ],
)
def test_ordinary_text_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_context_around_a_redacted_url_is_kept() -> None:
    line = f"POST http://127.0.0.1:9/api/v10/webhooks/1300/{ITOKEN}/messages/5 returned 200"
    assert redact(line) == (
        "POST http://127.0.0.1:9/api/v10/webhooks/1300/[redacted]/messages/5 returned 200"
    )


def test_configured_secret_of_any_shape_and_tracebacks() -> None:
    secret = "plain-looking-secret"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", (secret,), None)
    try:
        raise RuntimeError(f"callback /interactions/1/{ITOKEN}/callback failed")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactSecrets([secret, None, "short"]).filter(record)
    assert record.getMessage() == "got [redacted]"
    assert record.exc_text is not None and ITOKEN not in record.exc_text


def test_configured_handler_redacts_records_of_every_logger() -> None:
    with captured_logs([BOT_TOKEN]) as out:
        logging.getLogger("discord.webhook.async_").debug(
            "Webhook ID %s with %s %s has returned status code %s",
            1300, "POST", f"http://h/api/v10/webhooks/1300/{ITOKEN}", 200,
        )  # fmt: skip
        logging.getLogger("bot").info("token %s", BOT_TOKEN)
    text = out.getvalue()
    assert "/webhooks/1300/[redacted]" in text and "token [redacted]" in text
    assert ITOKEN not in text and BOT_TOKEN not in text


def test_a_malformed_log_call_does_not_raise_in_the_caller() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    assert RedactSecrets([]).filter(record)
    assert record.getMessage() == "%s and %s"
