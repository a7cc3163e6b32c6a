"""Task store: the PENDING → RUNNING → SUCCEEDED/FAILED machine, evaluated lazily on the clock."""

from __future__ import annotations

import logging
import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from emulator._config import EmulatorConfig
from emulator._errors import ApiError, new_id
from emulator._spec import TaskSpec
from emulator._usage import usage

log = logging.getLogger(__name__)

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
CANCEL_MESSAGE = "Failed to cancel the task, please confirm if the task is in PENDING status."
EXTEND_SUFFIX = (
    " The camera moves slowly and smoothly, with soft natural light, rich detail and a calm,"
    " cinematic atmosphere."
)


@dataclass
class TaskRecord:
    task_id: str
    spec: TaskSpec
    body: Mapping[str, Any]
    api_key_id: str
    created: float
    ready_at: float
    run_seconds: float
    failure: tuple[str, str] | None
    request_id: str = ""
    status: str = "PENDING"
    started_at: float | None = None
    ended_at: float | None = None


@dataclass(frozen=True)
class TaskView:
    """Read-only snapshot of a task for test assertions."""

    task_id: str
    model: str
    status: str
    created: float
    started_at: float | None
    ended_at: float | None
    run_seconds: float
    failure: tuple[str, str] | None
    request_body: Mapping[str, Any]
    spec: TaskSpec = field(repr=False)


class TaskStore:
    """Tasks per model: FIFO queue, concurrency cap, lazily advanced to the clock.

    ``on_finished`` is called (synchronously, so keep it cheap) for every task the moment the
    store records it as SUCCEEDED, FAILED or CANCELED.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        rng: random.Random,
        on_finished: Callable[[TaskRecord], None] | None = None,
    ) -> None:
        self._config = config
        self._on_finished = on_finished
        self._rng = rng
        self._tasks: dict[str, TaskRecord] = {}
        self._pending: dict[str, deque[TaskRecord]] = {}
        self._running: dict[str, list[TaskRecord]] = {}
        self._cursor: dict[str, float] = {}
        self._limits: dict[str, int] = {}
        self._tz = timezone(timedelta(hours=config.timestamp_utc_offset_hours))

    # ----------------------------------------------------------------- lifecycle
    def create(
        self,
        spec: TaskSpec,
        body: Mapping[str, Any],
        now: float,
        api_key_id: str,
        failure: tuple[str, str] | None,
        *,
        concurrency: int,
        request_id: str = "",
    ) -> TaskRecord:
        cfg = self._config
        median = (cfg.durations or {}).get(spec.model, spec.rule.median_seconds)
        if spec.deferred_error is not None:
            failure, median = spec.deferred_error, cfg.validation_failure_seconds
        spread = (
            math.exp(cfg.duration_sigma * self._rng.gauss(0.0, 1.0)) if cfg.duration_sigma else 1
        )
        task = TaskRecord(
            task_id=new_id(),
            spec=spec,
            body=body,
            api_key_id=api_key_id,
            created=now,
            ready_at=now + cfg.scaled(cfg.queue_delay),
            run_seconds=max(cfg.scaled(median * spread), 0.0),
            failure=failure,
            request_id=request_id or new_id(),
        )
        self._tasks[task.task_id] = task
        self._pending.setdefault(spec.model, deque()).append(task)
        self._running.setdefault(spec.model, [])
        self._limits[spec.model] = concurrency
        log.info("task %s created for %s", task.task_id, spec.model)
        return task

    def advance(self, now: float) -> None:
        """Apply every start/finish event up to ``now`` (per-model FIFO with a concurrency cap)."""
        for model, pending in self._pending.items():
            running = self._running[model]
            limit = self._limits[model]
            cursor = self._cursor.get(model, -math.inf)
            while True:
                finisher = min(running, key=_end_time, default=None)
                fin_t = _end_time(finisher) if finisher is not None else math.inf
                start_t = math.inf
                if pending and len(running) < limit:
                    start_t = max(pending[0].ready_at, cursor)
                event_t = min(fin_t, start_t)
                if event_t > now:
                    break
                cursor = event_t
                if finisher is not None and fin_t <= start_t:
                    running.remove(finisher)
                    finisher.ended_at = fin_t
                    finisher.status = "FAILED" if finisher.failure else "SUCCEEDED"
                    if self._on_finished is not None:
                        self._on_finished(finisher)
                else:
                    task = pending.popleft()
                    task.status, task.started_at = "RUNNING", start_t
                    running.append(task)
            self._cursor[model] = cursor

    def next_event_time(self) -> float:
        """Clock time of the next start or finish after the last ``advance`` (inf if none)."""
        soonest = math.inf
        for model, pending in self._pending.items():
            running = self._running[model]
            if running:
                soonest = min(soonest, min(_end_time(t) for t in running))
            if pending and len(running) < self._limits[model]:
                cursor = self._cursor.get(model, -math.inf)
                soonest = min(soonest, max(pending[0].ready_at, cursor))
        return soonest

    def get(self, task_id: str, now: float) -> TaskRecord | None:
        """The live task, or None when unknown or older than the (scaled) 24 h visibility."""
        self.advance(now)
        task = self._tasks.get(task_id)
        if task is None or now >= task.created + self._config.scaled(self._config.task_ttl):
            return None
        return task

    def find(self, task_id: str) -> TaskRecord | None:
        return self._tasks.get(task_id)

    def cancel(self, task_id: str, now: float) -> None:
        task = self.get(task_id, now)
        if task is None or task.status != "PENDING":
            raise ApiError(400, "UnsupportedOperation", CANCEL_MESSAGE)
        self._pending[task.spec.model].remove(task)
        task.status, task.ended_at = "CANCELED", now
        if self._on_finished is not None:
            self._on_finished(task)

    def active_count(self, model: str, now: float) -> int:
        self.advance(now)
        return len(self._pending.get(model, ())) + len(self._running.get(model, ()))

    def result_expires_at(self, task: TaskRecord) -> float:
        assert task.ended_at is not None  # noqa: S101  # only called for finished tasks
        return task.ended_at + self._config.scaled(self._config.result_ttl)

    def views(self, now: float) -> dict[str, TaskView]:
        self.advance(now)
        return {t.task_id: _view(t) for t in self._tasks.values()}

    # ----------------------------------------------------------------- wire shapes
    def _stamp(self, t: float) -> str:
        moment = datetime.fromtimestamp(t, tz=self._tz)
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"

    def output(self, task: TaskRecord, video_url: Callable[[TaskRecord], str]) -> dict[str, Any]:
        """``{"output": …, "usage"?: …}`` for ``GET /tasks/{id}`` (§7.3)."""
        out: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": task.status,
            "submit_time": self._stamp(task.created),
        }
        if task.started_at is not None:
            out["scheduled_time"] = self._stamp(task.started_at)
        if task.status in ("SUCCEEDED", "FAILED") and task.ended_at is not None:
            out["end_time"] = self._stamp(task.ended_at)
        body: dict[str, Any] = {"output": out}
        if task.status == "FAILED" and task.failure is not None:
            out["code"], out["message"] = task.failure
        elif task.status == "SUCCEEDED":
            spec = task.spec
            out["orig_prompt"] = spec.prompt or ""
            if spec.prompt_extend and spec.rule.generation != "2.6" and spec.template is None:
                out["actual_prompt"] = (spec.prompt or "").strip() + EXTEND_SUFFIX
            out["video_url"] = video_url(task)
            body["usage"] = usage(spec, self._config.continuation_usage)
        return body

    def list_page(self, now: float, query: Mapping[str, str], key_alias: bool) -> dict[str, Any]:
        """``GET /tasks`` body per §7.4 (``data`` list plus paging)."""
        self.advance(now)
        page_no = _positive_int(query.get("page_no", "1"), "page_no")
        page_size = min(_positive_int(query.get("page_size", "10"), "page_size"), 100)
        start = _parse_time(query.get("start_time"), self._tz)
        end = _parse_time(query.get("end_time"), self._tz)
        ttl = self._config.scaled(self._config.task_ttl)
        rows = [
            t
            for t in reversed(self._tasks.values())  # newest first, also for equal timestamps
            if now < t.created + ttl
            and query.get("model_name") in (None, "", t.spec.model)
            and query.get("status") in (None, "", t.status)
            and (start is None or t.created >= start)
            and (end is None or t.created <= end)
        ]
        rows.sort(key=lambda t: t.created, reverse=True)  # stable: ties stay newest first
        total = len(rows)
        page = rows[(page_no - 1) * page_size : page_no * page_size]
        region = self._config.region if self._config.region != "any" else "cn-beijing"
        data = [_list_row(t, t.spec.region if t.spec.region != "any" else region) for t in page]
        result: dict[str, Any] = {
            "data": data,
            "total": total,
            "total_page": max(math.ceil(total / page_size), 1) if total else 0,
            "page_no": page_no,
            "page_size": page_size,
        }
        if key_alias:
            result["tasks"] = data
        return result


def _end_time(task: TaskRecord | None) -> float:
    assert task is not None and task.started_at is not None  # noqa: S101  # running tasks only
    return task.started_at + task.run_seconds


def _view(t: TaskRecord) -> TaskView:
    return TaskView(
        task_id=t.task_id,
        model=t.spec.model,
        status=t.status,
        created=t.created,
        started_at=t.started_at,
        ended_at=t.ended_at,
        run_seconds=t.run_seconds,
        failure=t.failure,
        request_body=t.body,
        spec=t.spec,
    )


def _list_row(t: TaskRecord, region: str) -> dict[str, Any]:
    def ms(value: float | None) -> int | None:
        return None if value is None else int(value * 1000)

    return {
        "api_key_id": t.api_key_id,
        "caller_parent_id": "1000000000000000",
        "caller_uid": "1000000000000000",
        "end_time": ms(t.ended_at),
        "gmt_create": ms(t.created),
        "model_name": t.spec.model,
        "region": region,
        "request_id": t.task_id,
        "start_time": ms(t.started_at),
        "status": t.status,
        "task_id": t.task_id,
        "user_api_unique_key": f"apikey:v1:emulator:{t.api_key_id}",
    }


def _positive_int(raw: str, name: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, "InvalidParameter", f"Parameter {name} must be a positive integer.")
    return int(raw)


def _parse_time(raw: str | None, tz: timezone) -> float | None:
    """``YYYYMMDDhhmmss`` (display time zone) or epoch milliseconds (or seconds)."""
    if raw is None or raw == "":
        return None
    if raw.isdigit() and len(raw) == 14:
        parsed = datetime.strptime(raw, "%Y%m%d%H%M%S").replace(tzinfo=tz)
        return parsed.astimezone(UTC).timestamp()
    if raw.isdigit():
        value = int(raw)
        return value / 1000 if value >= 10**11 else float(value)
    raise ApiError(
        400, "InvalidParameter", "start_time/end_time must be YYYYMMDDhhmmss or epoch ms."
    )
