"""Fetch a result video: allow-listed hosts only, bounded memory, size cap, atomic rename.

DashScope result URLs are signed OSS links (reference §7.3): ``https://dashscope-result-*.…
aliyuncs.com/…`` or ``…oss-accelerate.aliyuncs.com``. Anything else is refused, so a tampered
or unexpected URL can never make the bot fetch arbitrary hosts. A configured non-DashScope base
URL (the emulator) adds its own ``host:port``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import aiohttp
from yarl import URL

from core.domain.errors import Kind, ProviderError

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
_MP4_BRAND_AT = slice(4, 8)


def _fail(
    message: str,
    *,
    key: str,
    params: dict[str, object] | None = None,
    kind: Kind = Kind.DOWNLOAD,
    retryable: bool = False,
    status: int | None = None,
) -> ProviderError:
    return ProviderError(
        message, key=key, params=params, kind=kind, retryable=retryable, status=status
    )


def host_allowed(url: URL, extra_origins: Iterable[tuple[str, str, int]]) -> bool:
    """True for DashScope result hosts over https, or an exact extra (scheme, host, port)."""
    host = (url.host or "").lower()
    if (url.scheme, host, url.port) in set(extra_origins):
        return True
    if url.scheme != "https" or not host.endswith(".aliyuncs.com"):
        return False
    return host.startswith("dashscope-result-") or host.endswith(".oss-accelerate.aliyuncs.com")


def safe_url(url: URL) -> str:
    """The URL without its query (the signature), for logs and messages."""
    return str(url.with_query(None).with_fragment(None))


async def download(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    extra_origins: Iterable[tuple[str, str, int]],
    client_timeout: aiohttp.ClientTimeout,
) -> int:
    parsed = URL(url)
    if not host_allowed(parsed, extra_origins):
        raise _fail(
            "The video link does not point at DashScope's result storage, so it was not fetched.",
            key="download.host",
        )
    shown = safe_url(parsed)
    try:
        async with session.get(parsed, allow_redirects=False, timeout=client_timeout) as resp:
            if resp.status in (403, 404):
                raise _fail(
                    "The video link has expired (DashScope keeps results for 24 hours).",
                    key="download.expired",
                    kind=Kind.EXPIRED,
                    status=resp.status,
                )
            if resp.status != 200:
                raise _fail(
                    f"Fetching the video failed (HTTP {resp.status}).",
                    key="download.http",
                    params={"status": resp.status},
                    retryable=resp.status >= 500 or resp.status == 429,
                    status=resp.status,
                )
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise _too_big(max_bytes)
            return await _stream_to(resp, dest, max_bytes)
    except ProviderError:
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("download of %s failed: %s", shown, type(exc).__name__)
        raise _fail(
            "Fetching the video failed; it will be retried.", key="download.network", retryable=True
        ) from None


def _too_big(max_bytes: int) -> ProviderError:
    limit = f"{max_bytes / 1e6:.0f}"
    return _fail(
        f"The video is larger than the {limit} MB the bot accepts.",
        key="download.too_big",
        params={"limit_mb": limit},
    )


async def _stream_to(resp: aiohttp.ClientResponse, dest: Path, max_bytes: int) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = await asyncio.to_thread(_open_temp, dest)
    done = False
    try:
        total = 0
        head = b""
        async for chunk in resp.content.iter_chunked(CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise _too_big(max_bytes)
            if len(head) < 8:
                head += chunk[: 8 - len(head)]
                if len(head) >= 8 and head[_MP4_BRAND_AT] != b"ftyp":
                    raise _fail("DashScope's result is not an MP4 video.", key="download.not_mp4")
            await asyncio.to_thread(handle.write, chunk)
        if len(head) < 8:
            raise _fail(
                "DashScope's result is not an MP4 video (it is empty or truncated).",
                key="download.truncated",
            )
        await asyncio.to_thread(_finish, handle, tmp, dest)
        done = True
        return total
    finally:
        if not done:
            await asyncio.to_thread(_discard, handle, tmp)


def _open_temp(dest: Path) -> tuple[BinaryIO, Path]:
    fd, name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    return os.fdopen(fd, "wb"), Path(name)


def _finish(handle: BinaryIO, tmp: Path, dest: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    tmp.replace(dest)


def _discard(handle: BinaryIO, tmp: Path) -> None:
    handle.close()
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
