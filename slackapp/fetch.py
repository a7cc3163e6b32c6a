"""Reading a picture a user gave the app: ``url_private_download`` with the bot token (§5).

Only Slack's file hosts get the token (and, when ``SLACK_API_URL`` points at a local stand-in,
that host, as the emulator's host is for DashScope). Redirects are followed by hand, to allowed
hosts only, re-sending the token there and nowhere else: a client that drops ``Authorization``
on a cross-host redirect would fetch Slack's sign-in page instead. That HTML page is what Slack
answers when the app lacks ``files:read``, with status 200: it becomes a clear error naming the
scope, not "unreadable image". The size is checked from the file object before reading and
again while reading, so a lying size cannot make the bot hold more than ``max_bytes``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

import aiohttp

from core.domain.errors import AnimateError, Input, Kind, ValidationError

MIB = 1024 * 1024
#: the largest picture any model accepts; the media pipeline shrinks anything inside it
MAX_IMAGE_BYTES = 20 * MIB
#: where Slack serves files: the usual host, Enterprise Grid's origin host, and the host
#: some file types redirect to (§5)
SLACK_FILE_HOSTS = frozenset({"files.slack.com", "files-origin.slack.com", "slack-files.com"})
MAX_REDIRECTS = 3
CHUNK = 64 * 1024


def _mb(n: int) -> float:
    return round(n / MIB, 1)


def too_big(name: str, size: int, limit: int) -> ValidationError:
    return ValidationError(
        f"{name} is {_mb(size)} MB; the limit for pictures is {_mb(limit)} MB. "
        "Attach a smaller or more compressed picture (a JPEG); nothing was spent.",
        key="image.too_big",
        params={"size_mb": _mb(size), "limit_mb": limit // MIB},
        subject=Input.IMAGE,
    )


class FileReader:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        extra_origins: frozenset[str] = frozenset(),
        max_bytes: int = MAX_IMAGE_BYTES,
        timeout: float = 60.0,
    ) -> None:
        self.session = session
        self._token = token
        #: ``scheme://host:port`` of a stand-in allowed besides Slack's own https hosts
        self.extra_origins = extra_origins
        self.max_bytes = max_bytes
        self.timeout = timeout

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname in SLACK_FILE_HOSTS and parts.port is None:
            return True
        return f"{parts.scheme}://{parts.netloc}" in self.extra_origins

    def check_size(self, name: str, size: int | None) -> None:
        """Refuse what the file object already proves too big, before any byte is read."""
        if size is not None and size > self.max_bytes:
            raise too_big(name, size, self.max_bytes)

    async def read(self, url: str, *, name: str) -> bytes:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._read(url, name)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AnimateError(
                "Slack did not send the picture in time. Try again in a moment; nothing was spent.",
                key="slack.file.failed",
                kind=Kind.BUSY,
                retryable=True,
            ) from exc

    async def _read(self, url: str, name: str) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allowed(url):
                raise ValidationError(
                    "That file is not stored by Slack, so it was not downloaded. Upload the "
                    "picture in the form instead; nothing was spent.",
                    key="slack.file.host",
                    subject=Input.IMAGE,
                )
            headers = {"Authorization": f"Bearer {self._token}"}
            async with self.session.get(url, headers=headers, allow_redirects=False) as r:
                if r.status in (301, 302, 303, 307, 308) and "Location" in r.headers:
                    url = urljoin(url, r.headers["Location"])
                    continue
                if r.status in (403, 404, 410):
                    raise ValidationError(
                        "Slack no longer has that file, or it was not shared with this app. "
                        "Upload the picture in the form instead; nothing was spent.",
                        key="slack.file.gone",
                        subject=Input.IMAGE,
                    )
                if r.status != 200:
                    raise AnimateError(
                        f"Slack answered {r.status} for the picture. Try again in a moment; "
                        "nothing was spent.",
                        key="slack.file.status",
                        params={"status": r.status},
                        kind=Kind.BUSY,
                        retryable=True,
                    )
                if r.content_type == "text/html":
                    raise ValidationError(
                        "Slack sent its sign-in page instead of the picture: this app is "
                        "missing the files:read permission. Ask a workspace admin to reinstall "
                        "it with files:read; nothing was spent.",
                        key="slack.file.no_access",
                        subject=Input.IMAGE,
                    )
                declared = r.content_length
                if declared is not None and declared > self.max_bytes:
                    raise too_big(name, declared, self.max_bytes)
                data = bytearray()
                async for chunk in r.content.iter_chunked(CHUNK):
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise too_big(name, len(data), self.max_bytes)
                return bytes(data)
        raise ValidationError(
            "Slack redirected the download too many times; nothing was spent.",
            key="slack.file.redirects",
            subject=Input.IMAGE,
        )
