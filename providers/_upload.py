"""DashScope temporary file storage: getPolicy → OSS form POST → ``oss://`` URL (reference §11).

Used for what DashScope takes only as a URL: audio files and clips to continue.

The credential comes from the API (``GET /uploads?action=getPolicy``, done by the client); the
form POST goes to the returned ``upload_host`` without our API key. The host must be Alibaba
OSS over https (or the configured emulator origin), so a bad policy cannot send user files
elsewhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

import aiohttp
from yarl import URL

from core.domain.errors import Input, Kind, ProviderError
from core.domain.tasks import MediaFile
from providers._download import safe_url

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIX = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}


def _upload_host_allowed(url: URL, extra_origins: Iterable[tuple[str, str, int]]) -> bool:
    host = (url.host or "").lower()
    if (url.scheme, host, url.port) in set(extra_origins):
        return True
    return url.scheme == "https" and host.endswith(".aliyuncs.com")


def _fail(
    message: str, *, key: str, retryable: bool, subject: Input, status: int | None = None
) -> ProviderError:
    return ProviderError(
        message, key=key, kind=Kind.BUSY if retryable else Kind.INTERNAL, retryable=retryable,
        status=status, subject=subject,
    )  # fmt: skip


def _failed(media: MediaFile, *, retryable: bool, status: int | None = None) -> ProviderError:
    """The upload of ``media`` (an audio file or a clip) failed."""
    if media.mime.startswith("video/"):
        return _fail(
            "Uploading the video to continue to DashScope failed; try again.",
            key="upload.clip_failed",
            retryable=retryable,
            subject=Input.CLIP,
            status=status,
        )
    return _fail(
        "Uploading the audio file to DashScope failed; try again.",
        key="upload.failed",
        retryable=retryable,
        subject=Input.AUDIO,
        status=status,
    )


def _subject(media: MediaFile) -> Input:
    return Input.CLIP if media.mime.startswith("video/") else Input.AUDIO


def object_name(media: MediaFile) -> str:
    name = _SAFE_NAME.sub("_", media.filename.rsplit("/", 1)[-1]).strip("._") or "file"
    if "." not in name:
        name += _SUFFIX.get(media.mime, ".mp3")
    return name[-100:]


async def post_to_oss(
    session: aiohttp.ClientSession,
    policy: Mapping[str, object],
    media: MediaFile,
    *,
    extra_origins: Iterable[tuple[str, str, int]],
    client_timeout: aiohttp.ClientTimeout,
) -> str:
    """Upload ``media`` with a getPolicy ``data`` object; return its ``oss://`` URL."""
    try:
        host = URL(str(policy["upload_host"]))
        upload_dir = str(policy["upload_dir"]).strip("/")
        fields = {
            "OSSAccessKeyId": str(policy["oss_access_key_id"]),
            "Signature": str(policy["signature"]),
            "policy": str(policy["policy"]),
        }
    except (KeyError, ValueError, TypeError):
        raise _fail(
            "DashScope's upload credential was incomplete.",
            key="upload.policy",
            retryable=True,
            subject=_subject(media),
        ) from None
    if not _upload_host_allowed(host, extra_origins):
        raise _fail(
            "DashScope's upload credential named an unexpected host.",
            key="upload.host",
            retryable=False,
            subject=_subject(media),
        )
    key = f"{upload_dir}/{object_name(media)}"
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("key", key)
    form.add_field("x-oss-object-acl", str(policy.get("x_oss_object_acl", "private")))
    form.add_field("x-oss-forbid-overwrite", str(policy.get("x_oss_forbid_overwrite", "true")))
    form.add_field("success_action_status", "200")
    form.add_field("x-oss-content-type", media.mime)
    form.add_field("file", media.data, filename=object_name(media), content_type=media.mime)
    try:
        # never follow a redirect: the host was checked above, where it points was not
        async with session.post(
            host, data=form, timeout=client_timeout, allow_redirects=False
        ) as resp:
            body = await resp.read()
            if resp.status not in (200, 201, 204):
                expired = b"Policy expired" in body
                log.warning(
                    "upload to %s failed: HTTP %s%s",
                    safe_url(host),
                    resp.status,
                    " (policy expired)" if expired else "",
                )
                raise _failed(
                    media,
                    retryable=expired or resp.status >= 500 or resp.status == 429,
                    status=resp.status,
                )
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("upload to %s failed: %s", safe_url(host), type(exc).__name__)
        raise _failed(media, retryable=True) from None
    log.debug("uploaded %d bytes as oss://%s", len(media.data), key)
    return f"oss://{key}"
