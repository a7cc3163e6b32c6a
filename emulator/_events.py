"""EventBridge-style completion push (§14): the §14.3 CloudEvent POSTed to a configured URL.

Finishing a task only *schedules* deliveries; they are sent by separate asyncio tasks so a
slow or failing receiver never holds up the task engine or the API. A background loop sends
whatever is due on the emulator's clock; ``settle()`` does the same on demand so tests can
await delivery deterministically instead of sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import heapq
import json
import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import aiohttp

from emulator._config import EmulatorConfig, PushConfig
from emulator._errors import new_id
from emulator._task_store import TaskRecord

log = logging.getLogger(__name__)

EVENT_TYPE = "dashscope:System:AsyncTaskFinish"
EVENT_SOURCE = "acs.dashscope"
_POLL_SECONDS = 0.5  # the loop re-reads the clock at least this often (it may be a fake one)
_BACKOFF_RETRIES, _BACKOFF_RANGE = 3, (10.0, 20.0)
_EXPONENTIAL_RETRIES, _EXPONENTIAL_CAP = 176, 512.0

Kind = Literal["original", "duplicate", "replay"]
Outcome = Literal["delivered", "failed", "dead", "lost"]


@dataclass(frozen=True)
class Delivery:
    """One event copy's fate: sent (``delivered``/``failed``/``dead``) or dropped (``lost``).

    ``attempt`` 0 is the first try, n the n-th retry; ``dead`` = failed with no retry left.
    """

    event_id: str
    task_id: str
    task_status: str
    kind: Kind
    attempt: int
    outcome: Outcome
    status: int | None  # HTTP status; None for lost events and connection errors/timeouts
    at: float
    body: Mapping[str, Any] = field(repr=False)


@dataclass(order=True)
class _Due:
    due: float
    seq: int
    event: dict[str, Any] = field(compare=False)
    kind: Kind = field(compare=False)
    attempt: int = field(compare=False)


def retry_delay(push: PushConfig, retry: int, rng: random.Random) -> float | None:
    """Unscaled seconds before retry number ``retry`` (1-based), None when retries are spent."""
    cap = {"BACKOFF_RETRY": _BACKOFF_RETRIES, "EXPONENTIAL_DECAY_RETRY": _EXPONENTIAL_RETRIES}
    limit = cap.get(push.retry_strategy, 0)
    if push.max_retries is not None:
        limit = min(limit, push.max_retries)
    if retry > limit:
        return None
    if push.retry_strategy == "BACKOFF_RETRY":
        return rng.uniform(*_BACKOFF_RANGE)
    return min(2.0 ** (retry - 1), _EXPONENTIAL_CAP)  # 1, 2, 4 … 512, then 512


def event_body(
    task: TaskRecord, push: PushConfig, config: EmulatorConfig, now: float
) -> dict[str, Any]:
    """The §14.3 event, field for field (and in the same order) as the documented example."""
    local = timezone(timedelta(hours=config.timestamp_utc_offset_hours))
    region = next(r for r in (task.spec.region, config.region, "cn-beijing") if r != "any")
    ended = task.ended_at if task.ended_at is not None else now
    rule = task.spec.rule

    def wall(t: float) -> str:
        return datetime.fromtimestamp(t, tz=local).strftime("%Y-%m-%d %H:%M:%S")

    return {
        "datacontenttype": "application/json;charset=utf-8",
        "aliyunaccountid": push.account_id,
        "aliyunpublishtime": _rfc3339(now),
        "data": {
            "start_time": wall(task.started_at if task.started_at is not None else task.created),
            "user_api_unique_key": push.unique_key_format.format(
                task=rule.path_task, model=rule.model_id
            ),
            "task_status": task.status,
            "contain_result": False,
            "end_time": wall(ended),
            "task_id": task.task_id,
            "region": region,
            "request_id": task.request_id,
            "api_key_id": task.api_key_id,
        },
        "aliyunoriginalaccountid": push.account_id,
        "specversion": "1.0",
        "aliyuneventbusname": "default",
        "id": new_id(),
        "source": EVENT_SOURCE,
        "time": _rfc3339(ended),
        "aliyunregionid": region,
        "type": EVENT_TYPE,
    }


def _rfc3339(t: float) -> str:
    moment = datetime.fromtimestamp(t, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def auth_headers(push: PushConfig) -> dict[str, str]:
    """How an EventBridge API-destination connection attaches the token (§14.4)."""
    if push.auth == "api-key" and push.token:
        return {push.api_key_header: push.token}
    if push.auth == "basic" and push.token:
        raw = f"{push.basic_user}:{push.token}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    return {}


class EventPusher:
    def __init__(
        self,
        push: PushConfig,
        config: EmulatorConfig,
        rng: random.Random,
        advance: Callable[[], float],
    ) -> None:
        """``advance`` brings the task store to the clock and returns its next event time."""
        self._push, self._config, self._rng = push, config, rng
        self._advance = advance
        self._clock = config.clock
        self._heap: list[_Due] = []
        self._seq = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._kick = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self.deliveries: list[Delivery] = []

    # ------------------------------------------------------------------ scheduling
    def on_finished(self, task: TaskRecord) -> None:
        """Called by the task store as a task ends; only schedules (never blocks)."""
        if task.status == "CANCELED" and not self._push.include_canceled:
            return
        now = self._clock()
        event = event_body(task, self._push, self._config, now)
        if self._chance(self._push.loss):
            self._record(event, "original", 0, "lost", None)
            return
        self._schedule(event, "original", 0, now)
        if self._chance(self._push.duplicate):
            self._schedule(event, "duplicate", 0, now)
        if self._chance(self._push.replay):
            self._schedule(event, "replay", 0, now + self._config.scaled(self._push.replay_delay))

    def _chance(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability

    def _schedule(self, event: dict[str, Any], kind: Kind, attempt: int, due: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, _Due(due, self._seq, event, kind, attempt))
        self._kick.set()

    def _pump(self) -> None:
        now = self._clock()
        while self._heap and self._heap[0].due <= now:
            item = heapq.heappop(self._heap)
            sender = asyncio.ensure_future(self._send(item))
            self._inflight.add(sender)
            sender.add_done_callback(self._inflight.discard)

    # ------------------------------------------------------------------ sending
    async def _send(self, item: _Due) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json;charset=utf-8", **auth_headers(self._push)}
        status: int | None = None
        try:
            async with self._session.post(
                self._push.url,
                data=json.dumps(item.event, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._push.timeout),
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("event push to receiver failed: %s", type(exc).__name__)
        if status is not None and 200 <= status < 300:
            self._record(item.event, item.kind, item.attempt, "delivered", status)
            return
        delay = retry_delay(self._push, item.attempt + 1, self._rng)
        if delay is None:
            self._record(item.event, item.kind, item.attempt, "dead", status)
            return
        self._record(item.event, item.kind, item.attempt, "failed", status)
        due = self._clock() + self._config.scaled(delay)
        self._schedule(item.event, item.kind, item.attempt + 1, due)

    def _record(
        self, event: dict[str, Any], kind: Kind, attempt: int, outcome: Outcome, status: int | None
    ) -> None:
        data = event["data"]
        self.deliveries.append(
            Delivery(
                event_id=event["id"],
                task_id=data["task_id"],
                task_status=data["task_status"],
                kind=kind,
                attempt=attempt,
                outcome=outcome,
                status=status,
                at=self._clock(),
                body=event,
            )
        )
        log.info("event %s for task %s (%s #%d): %s", event["id"], data["task_id"], kind,
                 attempt, outcome)  # fmt: skip

    # ------------------------------------------------------------------ driving
    async def settle(self) -> None:
        """Advance the tasks to the clock and finish every delivery due by now (retries and
        replays due later stay scheduled)."""
        while True:
            self._advance()
            self._pump()
            if not self._inflight:
                return
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    def pending(self) -> int:
        """Deliveries scheduled for later (retries, replays) plus those being sent."""
        return len(self._heap) + len(self._inflight)

    async def start(self) -> None:
        self._loop_task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self._kick.clear()
            delay = _POLL_SECONDS
            try:
                wake = self._advance()
                self._pump()
                if self._heap:
                    wake = min(wake, self._heap[0].due)
                if not math.isinf(wake):
                    delay = min(max(wake - self._clock(), 0.001), _POLL_SECONDS)
            except Exception:  # the loop must outlive any single bad event
                log.exception("event push loop pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), delay)

    async def close(self) -> None:
        tasks = [t for t in (self._loop_task, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
