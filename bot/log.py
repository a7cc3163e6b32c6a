"""Logging, configured once in ``main()``. Secrets are scrubbed from every record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replace any configured secret (bot token, API key) in a record with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        text = message
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = record.exc_text
        if exc_text:
            for secret in self.secrets:
                exc_text = exc_text.replace(secret, "[redacted]")
            record.exc_text = exc_text
        if text != message:
            record.msg, record.args = text, None
        return True


def configure_logging(level: str = "INFO", *, secrets: Iterable[str | None] = ()) -> None:
    """Root handler on stderr with the redaction filter; discord.py's chatter at INFO at most."""
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root.handlers[:] = [handler]
    root.setLevel(level)
    # the gateway logs every heartbeat at DEBUG; keep it quiet unless asked for explicitly
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))
