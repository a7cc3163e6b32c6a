"""Logging, configured once in ``main()``. Secrets are scrubbed from every record.

Two kinds of secret reach log lines: the configured ones (bot token, API key), replaced
wherever they appear, and ones the bot never configured but libraries print. discord.py at DEBUG
logs every interaction callback and follow-up URL (``…/interactions/<id>/<token>/callback``,
``…/webhooks/<app id>/<token>``: the token lets anyone answer as the bot for 15 minutes) and
every gateway event, whose ``INTERACTION_CREATE`` payload carries the same token. Those are
found by shape, as are ``Bearer``/``Bot`` authorization values, DashScope-style keys and Slack
tokens (``xoxb-``, ``xapp-``, ``xoxp-`` …).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "[redacted]"

#: each pattern keeps group 1 (the context) and replaces the rest with ``REDACTED``
_PATTERNS = re.compile(
    "|".join(
        (
            # webhook / follow-up URLs: /webhooks/<app id>/<token>[/messages/…]
            r"(/webhooks/\d+/)[^/\s?#'\"]+",
            # interaction callbacks: /interactions/<id>/<token>/callback
            r"(/interactions/\d+/)[^/\s?#'\"]+",
            # a "token" field in a JSON body or a dict repr (gateway events, payloads)
            r"""(["']token["']\s*:\s*["'])[^"']+""",
            # Authorization header values
            r"(\b(?:Bearer|Bot)\s+)[A-Za-z0-9._~+/=-]{16,}",
            # DashScope API keys (sk- followed by the key body) appearing in any text
            r"(\b)sk-[A-Za-z0-9][A-Za-z0-9_-]{15,}",
            # Slack tokens: bot (xoxb-), user (xoxp-), app-level (xapp-), rotating (xoxe.xoxp-,
            # xoxe-) and legacy (xoxa-, xoxr-, xoxs-) ones, wherever they appear
            r"(\b)(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]{8,}",
        )
    )
)


def _keep_context(match: re.Match[str]) -> str:
    context = next((g for g in match.groups() if g is not None), "")
    return context + REDACTED


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with configured ``secrets`` and secret-shaped values replaced."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return _PATTERNS.sub(_keep_context, text)


class RedactSecrets(logging.Filter):
    """Scrub a record's message, traceback and stack of secrets before any handler formats it."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Also redact ``secret`` (too short a value is ignored: it would redact ordinary text)."""
        if secret and len(secret) >= 8 and secret not in self.secrets:
            self.secrets += (secret,)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # a malformed log call: let the handler report it (handleError), not the caller
            record.msg, record.args = redact(str(record.msg), self.secrets), None
            return True
        text = redact(message, self.secrets)
        if text != message:
            record.msg, record.args = text, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def redacting_handler(
    stream: TextIO | None = None, *, secrets: Iterable[str | None] = (), fmt: str = _FORMAT
) -> tuple[logging.Handler, RedactSecrets]:
    """A stream handler (stderr by default) whose every record passes the redaction filter."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter(fmt))
    redactor = RedactSecrets(secrets)
    handler.addFilter(redactor)
    return handler, redactor


def configure_logging(
    level: str = "INFO", *, secrets: Iterable[str | None] = (), stream: TextIO | None = None
) -> None:
    """Root handler on stderr with the redaction filter; discord.py's chatter at INFO at most."""
    root = logging.getLogger()
    handler, _ = redacting_handler(stream, secrets=secrets)
    root.handlers[:] = [handler]
    root.setLevel(level)
    # the gateway logs every heartbeat at DEBUG; keep it quiet unless asked for explicitly
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))
