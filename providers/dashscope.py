"""``DashScopeClient``: the Wan image-to-video API on one shared ``aiohttp.ClientSession``.

Implements ``core.tasks.VideoProvider``. Retry policy, in one place:

* **create** is sent once. A connection that could not be opened (refused, DNS, connect
  timeout) means nothing was sent: a retryable ``BUSY`` error. Anything that may have reached
  DashScope without a readable answer — timeout or reset after sending, a 408/500/502/504, a
  malformed 200 — raises ``OutcomeUnknownError``: every create is a billed task, so the engine
  reconciles through ``list_tasks`` instead of re-sending. 429 and 503 are clear rejections:
  retryable ``RATE_LIMITED`` / ``BUSY`` errors, nothing created.
* **get / list / cancel / getPolicy** are retried here on 429, 5xx, malformed bodies, timeouts
  and connection errors: ``attempts`` tries with exponential backoff plus jitter, honouring
  ``Retry-After``.

The API key lives only in the ``Authorization`` header; it is never logged, never part of a
repr, and scrubbed from any provider text that is kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from core.domain.catalog import BASE_URLS, REGIONS, Media, Model, Region, find_model
from core.domain.combinations import storage_refusal
from core.domain.errors import Kind, ProviderError, ValidationError
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from providers import _download, _upload
from providers._errors import (
    Context,
    ErrorBody,
    map_error,
    outcome_unknown,
    parse_error_body,
    retry_after_seconds,
    task_error,
)
from providers._parse import MalformedResponse, format_time, parse_task, parse_task_list
from providers._wire import create_body, create_path, uses_temporary_storage

log = logging.getLogger(__name__)

USER_AGENT = "animate-bot/0.1 (aiohttp)"
_LIST_PAGE_SIZE = 100
_LIST_MAX_PAGES = 50
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    raw: bytes
    headers: dict[str, str]


class _Secret:
    """Holds the key; its repr never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


class DashScopeClient:
    """DashScope Wan i2v client. The session is owned (opened and closed) by the caller."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        region: Region = Region.BEIJING,
        base_url: str | None = None,
        attempts: int = 3,
        retry_delay: float = 0.5,
        create_timeout: float = 60.0,
        query_timeout: float = 30.0,
        download_timeout: float = 900.0,
        upload_timeout: float = 300.0,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        self._session = session
        self._key = _Secret(api_key)
        self.region = region
        base = base_url or REGIONS[region].shared_url
        if base is None:
            raise ValueError(
                f"region {region.value} has no shared DashScope domain; pass its workspace host"
            )
        self.base_url = base.rstrip("/")
        self._base = URL(self.base_url)
        self.official = self.base_url in BASE_URLS.values() or (
            (self._base.host or "").endswith(".aliyuncs.com")
        )
        #: (scheme, host, port) trusted for downloads/uploads besides Alibaba OSS: the emulator
        self._extra_origins: tuple[tuple[str, str, int], ...] = (
            ()
            if self.official
            else ((self._base.scheme, (self._base.host or "").lower(), self._base.port or 0),)
        )
        self._attempts = max(attempts, 1)
        self._retry_delay = retry_delay
        self._create_timeout = aiohttp.ClientTimeout(total=create_timeout, sock_connect=15)
        self._query_timeout = aiohttp.ClientTimeout(total=query_timeout, sock_connect=10)
        self._download_timeout = aiohttp.ClientTimeout(
            total=download_timeout, sock_connect=15, sock_read=60
        )
        self._upload_timeout = aiohttp.ClientTimeout(total=upload_timeout, sock_connect=15)
        self._rng = random.Random()  # noqa: S311  # backoff jitter, not security

    def __repr__(self) -> str:
        return f"DashScopeClient(region={self.region.value!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------ VideoProvider
    async def create_task(self, request: TaskRequest) -> TaskInfo:
        """Create the task of a validated request (``core.domain.validation``: the engine builds
        it from a validated job). Refused here only what only this client knows: a model its
        region lacks."""
        model = self._in_region(request.model)
        audio_url = request.audio_url
        if request.audio is not None:
            audio_url = await self._upload(request.audio, model)
        body = create_body(request, model, self.region, audio_url=audio_url)
        headers = {"X-DashScope-Async": "enable"}
        if uses_temporary_storage(body):
            headers["X-DashScope-OssResourceResolve"] = "enable"
        reply = await self._send_create(create_path(model), body, headers)
        ctx = self._ctx(model, "create")
        if reply.status != 200:
            error_body = parse_error_body(reply.raw)
            # 408: the gateway gave up waiting, like a 504; the task may exist either way
            if reply.status in (408, 500, 502, 504):
                raise outcome_unknown(
                    f"HTTP {reply.status} on create", status=reply.status, body=error_body
                )
            raise self._mapped(reply, error_body, ctx)
        try:
            info = parse_task(json.loads(reply.raw))
        except (ValueError, MalformedResponse):
            raise outcome_unknown("unreadable create response", status=200) from None
        log.info("created DashScope task %s (%s)", info.task_id, model.wire_id(self.region))
        return info

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        """getPolicy for ``model``, then the OSS form POST; the ``oss://`` URL (valid 48 h)."""
        return await self._upload(media, self._in_region(model))

    async def get_task(self, task_id: str) -> TaskInfo:
        data = await self._json_call("GET", f"/tasks/{task_id}", op="task", parse=parse_task)
        return self._with_error(data)

    async def cancel_task(self, task_id: str) -> None:
        try:
            await self._json_call("POST", f"/tasks/{task_id}/cancel", op="cancel", parse=_any)
        except ProviderError as exc:
            if exc.code != "UnsupportedOperation":
                raise
            info = await self.get_task(task_id)
            if info.status is TaskStatus.CANCELED:  # an earlier attempt got through
                return
            message, key = _cancel_refusal(info.status)
            raise ProviderError(
                message,
                key=key,
                params={"status": info.status.value.lower()},
                kind=Kind.INVALID_INPUT,
                retryable=False,
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
                provider_message=exc.provider_message,
            ) from None
        log.info("canceled DashScope task %s", task_id)

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        """Tasks created in [start, end] (second precision, widened outwards).

        ``model`` may be a catalog or a regional id; summaries carry catalog ids where known.
        """
        params: dict[str, str] = {
            "page_size": str(_LIST_PAGE_SIZE),
            "start_time": format_time(start.replace(microsecond=0)),
            "end_time": format_time(end.replace(microsecond=0) + timedelta(seconds=1)),
        }
        if model is not None:
            known = find_model(model)
            params["model_name"] = (
                known.wire_id(self.region) if known and known.available_in(self.region) else model
            )
        if status is not None:
            params["status"] = status.value
        found: list[TaskSummary] = []
        for page in range(1, _LIST_MAX_PAGES + 1):
            params["page_no"] = str(page)
            rows, pages = await self._json_call(
                "GET", "/tasks", op="task list", params=dict(params), parse=parse_task_list
            )
            found.extend(rows)
            if not rows or pages is None or page >= pages:
                break
        return [_catalog_summary(s) for s in found]

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        size = await _download.download(
            self._session,
            url,
            dest,
            max_bytes=max_bytes,
            extra_origins=self._extra_origins,
            client_timeout=self._download_timeout,
        )
        log.info("downloaded %d bytes to %s", size, dest)
        return size

    # ------------------------------------------------------------------ helpers
    def _in_region(self, model: Model) -> Model:
        if not model.available_in(self.region):
            where = ", ".join(r.value for r in model.region_ids)
            raise ValidationError(
                f"Model {model.id} is not available in region {self.region.value} "
                f"(only in {where}).",
                key="request.model_region",
                params={"model": model.id, "region": self.region.value, "regions": where},
            )
        return model

    def _ctx(self, model: Model | None, operation: str) -> Context:
        return Context(
            region=self.region.value,
            host=self._base.host or self.base_url,
            official=self.official,
            model=model.wire_id(self.region) if model else None,
            operation=operation,
        )

    def _scrub(self, text: str | None) -> str | None:
        key = self._key.value.strip()
        if text is None or len(key) < 8:  # a blank or toy key would mangle ordinary text
            return text
        return text.replace(key, "<api-key>")

    def _mapped(self, reply: _Reply, body: ErrorBody, ctx: Context) -> ProviderError:
        body = ErrorBody(body.code, self._scrub(body.message), body.request_id)
        error = map_error(reply.status, body, ctx, retry_after=retry_after_seconds(reply.headers))
        log.info(
            "DashScope %s failed: HTTP %s code=%s request_id=%s: %s",
            ctx.operation,
            reply.status,
            body.code,
            body.request_id,
            body.message,
        )
        return error

    def _with_error(self, info: TaskInfo) -> TaskInfo:
        """Attach the typed error to FAILED / CANCELED / UNKNOWN tasks."""
        scrubbed = replace(info, message=self._scrub(info.message))
        error = task_error(scrubbed, self._ctx(None, "task"))
        return info if error is None else replace(info, error=error)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._key.value}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if extra:
            headers.update(extra)
        return headers

    async def _send_create(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> _Reply:
        url = self._base / path.lstrip("/")
        try:
            async with self._session.post(
                url,
                json=body,
                headers=self._headers(headers),
                timeout=self._create_timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                return _Reply(resp.status, raw, dict(resp.headers))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # nothing was sent: safe, the engine may simply try again later
            log.warning("could not connect to DashScope for create: %s", type(exc).__name__)
            raise ProviderError(
                "Could not reach the video service. Try again in a few minutes.",
                key="busy.unreachable",
                kind=Kind.BUSY,
                retryable=True,
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise outcome_unknown(f"{type(exc).__name__} after sending create") from None

    async def _json_call(
        self,
        method: str,
        path: str,
        *,
        op: str,
        parse: Callable[[object], T],
        params: dict[str, str] | None = None,
    ) -> T:
        """An idempotent call with retries; returns ``parse(json)``."""
        url = self._base / path.lstrip("/")
        last: ProviderError | None = None
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff(attempt, last))
            try:
                async with self._session.request(
                    method,
                    url,
                    params=params,
                    headers=self._headers(),
                    timeout=self._query_timeout,
                    allow_redirects=False,
                ) as resp:
                    reply = _Reply(resp.status, await resp.read(), dict(resp.headers))
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.info("DashScope %s attempt %d: %s", op, attempt + 1, type(exc).__name__)
                last = ProviderError(
                    "Could not reach the video service. Try again in a few minutes.",
                    key="busy.unreachable",
                    kind=Kind.BUSY,
                    retryable=True,
                )
                continue
            log.debug("%s %s -> %s", method, path, reply.status)
            if reply.status != 200:
                last = self._mapped(reply, parse_error_body(reply.raw), self._ctx(None, op))
                if last.retryable:
                    continue
                raise last
            try:
                return parse(json.loads(reply.raw))
            except (ValueError, MalformedResponse):
                log.info("DashScope %s attempt %d: unreadable response", op, attempt + 1)
                last = ProviderError(
                    "The video service sent an unreadable answer. Try again later.",
                    key="busy.unreadable",
                    kind=Kind.BUSY,
                    retryable=True,
                    status=reply.status,
                )
        assert last is not None  # noqa: S101  # the loop ran at least once and failed
        raise last

    def _backoff(self, attempt: int, last: ProviderError | None) -> float:
        delay: float = self._retry_delay * (2.0 ** (attempt - 1))
        if last is not None and last.retry_after is not None:
            delay = max(delay, min(last.retry_after, 30.0))
        return delay * (1.0 + 0.25 * self._rng.random())

    async def _upload(self, media: MediaFile, model: Model) -> str:
        if self.official and not REGIONS[self.region].temporary_storage:
            # the temporary storage exists in Beijing only (reference §11)
            kind = Media.CLIP if media.mime.startswith("video/") else Media.AUDIO
            raise storage_refusal(kind, self.region)
        data = await self._json_call(
            "GET",
            "/uploads",
            op="upload policy",
            params={"action": "getPolicy", "model": model.wire_id(self.region)},
            parse=_policy,
        )
        return await _upload.post_to_oss(
            self._session,
            data,
            media,
            extra_origins=self._extra_origins,
            client_timeout=self._upload_timeout,
        )


def _any(payload: object) -> object:
    return payload


def _policy(payload: object) -> dict[str, object]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise MalformedResponse("upload policy has no data object")
    return data


def _catalog_summary(summary: TaskSummary) -> TaskSummary:
    known = find_model(summary.model) if summary.model else None
    if known is None:
        return summary
    return TaskSummary(summary.task_id, summary.status, known.id, summary.created_at)


def _cancel_refusal(status: TaskStatus) -> tuple[str, str]:
    """(message, key) of a cancel DashScope refused."""
    if status is TaskStatus.RUNNING:
        return "Too late to cancel: DashScope is already generating this video.", "cancel.running"
    if status.terminal:
        return (
            f"The job cannot be canceled: it has already ended ({status.value.lower()}).",
            "cancel.finished",
        )
    return (
        "DashScope refused to cancel the job; it only cancels jobs still in its queue.",
        "cancel.refused",
    )
