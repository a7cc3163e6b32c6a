"""aiohttp application: DashScope routes, header rules, rate limits and fault injection."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulator._config import EmulatorConfig
from emulator._errors import LOG_BODY, ApiError, new_id, oss_error, rate_limited
from emulator._events import EventPusher
from emulator._faults import FaultInjector, RateLimiter
from emulator._oss import RESULT_PREFIX, UPLOAD_PATH, OssStore
from emulator._regions import limits_for, request_region
from emulator._results import Renders
from emulator._task_store import TaskRecord, TaskStore
from emulator._validate import resolve_model, validate_create

log = logging.getLogger(__name__)

API = "/api/v1"
CREATE_PATH = API + "/services/aigc/{task}/video-synthesis"
PATH_TASKS = ("video-generation", "image2video")  # image2video: the kf2v models (§5.4)
MODERATION = ("DataInspectionFailed", "Input or output data may contain inappropriate content.")
IP_SUSPECT = (
    "IPInfringementSuspect",
    "Input data is suspected of being involved in IP infringement.",
)
_SERVER_ERRORS = {
    500: (
        "InternalError",
        "An internal error has occured, please try again later or contact service support.",
    ),
    503: (
        "ModelServingError",
        "Too many requests. Your requests are being throttled due to system capacity limits,"
        " please try again later.",
    ),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RequestRecord:
    """One received request; the Authorization value is never kept."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any


class _Reset(Exception):
    """Raised after the connection was torn down on purpose (fault injection)."""


class EmulatorServer:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = config.clock
        rng = random.Random(config.seed)
        self.pusher: EventPusher | None = None
        if config.push is not None:
            self.pusher = EventPusher(
                config.push, config, random.Random(rng.random()), self._advance_tasks
            )
        on_finished = self.pusher.on_finished if self.pusher is not None else None
        self.store = TaskStore(config, random.Random(rng.random()), on_finished)
        self.faults = FaultInjector(config.faults, random.Random(rng.random()))
        self.limiter = RateLimiter()
        self.oss = OssStore(config, config.clock)
        self.request_log: list[RequestRecord] = []
        self.renders = Renders(config)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_post(CREATE_PATH, self._create)
        r.add_get(API + "/tasks", self._list)
        r.add_get(API + "/tasks/", self._list)
        r.add_get(API + "/tasks/{task_id}", self._query)
        r.add_get(API + "/tasks/{task_id}/", self._query)
        r.add_post(API + "/tasks/{task_id}/cancel", self._cancel)
        r.add_post(API + "/tasks/{task_id}/cancel/", self._cancel)
        r.add_get(API + "/uploads", self._policy)
        r.add_post(UPLOAD_PATH, self.oss.handle_upload)
        r.add_get(RESULT_PREFIX + "{name}", self._download)
        return app

    async def start(self) -> None:
        if self.pusher is not None:
            await self.pusher.start()

    async def close(self) -> None:
        if self.pusher is not None:
            await self.pusher.close()
        await self.renders.wait()

    def _advance_tasks(self) -> float:
        self.store.advance(self.clock())
        return self.store.next_event_time()

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body and "json" in (request.content_type or ""):
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        try:
            response = await handler(request)
        except ApiError as exc:
            response = (
                exc.response()
                if request.path.startswith(API)
                else oss_error(exc.status, exc.code, exc.message)
            )
        except _Reset:
            response = web.Response(status=500)
        except web.HTTPNotFound:
            response = ApiError(404, "NotFound", "Not found!").response()
        except web.HTTPMethodNotAllowed:
            response = ApiError(405, "MethodNotAllowed", "Method not allowed.").response()
        headers = {
            k: ("<redacted>" if k.lower() == "authorization" else v)
            for k, v in request.headers.items()
        }
        logged = request.get(LOG_BODY, body)
        self.request_log.append(
            RequestRecord(request.method, request.path, dict(request.query), headers, logged)
        )
        log.info("%s %s -> %s", request.method, request.path, response.status)
        return response

    # ------------------------------------------------------------------ shared gates
    def _auth(self, request: web.Request) -> tuple[str, str]:
        """(account id, region) of an authorised request; the region comes from the Host."""
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, "InvalidApiKey", "No API-key provided.")
        if self.config.api_key is not None and key != self.config.api_key:
            raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")
        region = request_region(request.host, self.config)
        return hashlib.sha256(key.encode()).hexdigest()[:12], region

    async def _pre_faults(self, request: web.Request, prefix: str, reset_kind: str) -> None:
        latency = self.faults.fire("latency")
        if latency is not None:
            await asyncio.sleep(float(latency.get("seconds", self.config.faults.latency_seconds)))
        if self.faults.fire(reset_kind) is not None:
            _reset(request)
        for status in (500, 503, 429):
            if self.faults.fire(f"{prefix}_{status}") is not None:
                raise ApiError(status, *_SERVER_ERRORS[status])

    def _query_gate(self) -> None:
        if self.config.enforce_rate_limits and not self.limiter.allow(
            "query", self.config.query_qps, self.clock()
        ):
            raise rate_limited()

    # ------------------------------------------------------------------ create
    async def _create(self, request: web.Request) -> web.Response:
        """Create on either path; each model answers on its own (§2, kf2v on image2video)."""
        path_task = request.match_info["task"]
        if path_task not in PATH_TASKS:
            raise ApiError(404, "NotFound", "Not found!")
        account, region = self._auth(request)
        await self._pre_faults(request, "create", "reset_before_create")
        if request.headers.get("X-DashScope-Async", "").lower() != "enable":
            raise ApiError(
                403, "AccessDenied", "current user api does not support synchronous calls."
            )
        body = await _json_body(request)
        rule = resolve_model(body, region, path_task, self.config)
        submit_rps, concurrency = limits_for(rule, self.config)
        now = self.clock()
        if self.config.enforce_rate_limits and not self.limiter.allow(
            "submit:" + rule.model_id, submit_rps, now
        ):
            raise rate_limited()
        oss_resolve = request.headers.get("X-DashScope-OssResourceResolve", "").lower() == "enable"
        spec = await validate_create(
            body,
            rule,
            self.config,
            region=region,
            oss_resolve=oss_resolve,
            uploads=self.oss.lookup,
            now=now,
        )
        if (
            self.config.concurrency_mode == "reject"
            and self.store.active_count(rule.model_id, now) >= concurrency
        ):
            raise ApiError(429, "Throttling", "Requests throttling triggered.")
        if (opts := self.faults.fire("moderation_create")) is not None:
            raise ApiError(400, opts.get("code", MODERATION[0]), opts.get("message", MODERATION[1]))
        if (opts := self.faults.fire("ip_infringement_create")) is not None:
            raise ApiError(400, opts.get("code", IP_SUSPECT[0]), opts.get("message", IP_SUSPECT[1]))
        request_id = new_id()
        task = self.store.create(
            spec,
            body,
            now,
            account,
            self._task_failure(),
            concurrency=concurrency,
            request_id=request_id,
        )
        if self.faults.fire("reset_after_create") is not None:
            _reset(request)
        if self.faults.fire("create_500_after_create") is not None:
            raise ApiError(500, *_SERVER_ERRORS[500])
        if self.faults.fire("malformed_create") is not None:
            return _malformed(task.task_id)
        return _ok({"output": {"task_status": "PENDING", "task_id": task.task_id}}, request_id)

    def _task_failure(self) -> tuple[str, str] | None:
        faults = self.config.faults
        candidates: tuple[tuple[str, tuple[str, str]], ...] = (
            (
                "moderation_task",
                ("DataInspectionFailed", "Output data may contain inappropriate content."),
            ),
            ("ip_infringement_task", IP_SUSPECT),
            ("task_failure", (faults.task_failure_code, faults.task_failure_message)),
        )
        for kind, (code, message) in candidates:
            if (opts := self.faults.fire(kind)) is not None:
                return str(opts.get("code", code)), str(opts.get("message", message))
        return None

    # ------------------------------------------------------------------ tasks
    async def _query(self, request: web.Request) -> web.Response:
        self._auth(request)
        await self._pre_faults(request, "query", "reset_query")
        self._query_gate()
        task_id = request.match_info["task_id"]
        task = self.store.get(task_id, self.clock())
        if self.faults.fire("malformed_query") is not None:
            return _malformed(task_id)
        if task is None:
            return _ok({"output": {"task_id": task_id, "task_status": "UNKNOWN"}})
        return _ok(self.store.output(task, self._video_url))

    async def _cancel(self, request: web.Request) -> web.Response:
        self._auth(request)
        self._query_gate()
        self.store.cancel(request.match_info["task_id"], self.clock())
        return _ok({})

    async def _list(self, request: web.Request) -> web.Response:
        self._auth(request)
        self._query_gate()
        return _ok(self.store.list_page(self.clock(), request.query, self.config.list_tasks_alias))

    # ------------------------------------------------------------------ uploads & results
    async def _policy(self, request: web.Request) -> web.Response:
        account, _ = self._auth(request)
        if request.query.get("action") != "getPolicy":
            raise ApiError(
                400, "InvalidParameter", "Required parameter(action) missing or invalid."
            )
        model = request.query.get("model", "")
        if not model:
            raise ApiError(400, "InvalidParameter", "Required parameter(model) missing or invalid.")
        if self.config.enforce_rate_limits and not self.limiter.allow(
            "policy:" + model, self.config.policy_qps, self.clock()
        ):
            raise rate_limited()
        return _ok({"data": self.oss.policy(model, account)})

    def _video_url(self, task: TaskRecord) -> str:
        return self.oss.result_url(task.task_id, self.store.result_expires_at(task))

    async def _download(self, request: web.Request) -> web.Response:
        name = request.match_info["name"].removesuffix(".mp4")
        self.store.advance(self.clock())
        task = self.store.find(name)
        ok = task is not None and task.status == "SUCCEEDED"
        expires_at = self.store.result_expires_at(task) if ok and task is not None else None
        task_id = self.oss.check_result_request(request, expires_at)
        assert task is not None  # noqa: S101  # check_result_request refused anything else
        data = await asyncio.shield(self.renders.get(task_id, task.spec))
        return web.Response(body=data, content_type="video/mp4")


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest.IllegalInput", "The input parameter requires json format.")
    return body


def _ok(payload: dict[str, Any], request_id: str | None = None) -> web.Response:
    return web.json_response({"request_id": request_id or new_id(), **payload})


def _malformed(task_id: str) -> web.Response:
    text = '{"request_id": "' + new_id() + '", "output": {"task_id": "' + task_id[:8]
    return web.Response(text=text, content_type="application/json")


def _reset(request: web.Request) -> None:
    """Tear the TCP connection down with an RST (SO_LINGER 0), then stop handling."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    raise _Reset
