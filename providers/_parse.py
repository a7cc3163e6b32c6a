"""DashScope JSON → core value objects (``TaskInfo``, ``Usage``, ``TaskSummary``).

Lenient by design: every field may be missing or of a surprising type (the docs disagree on
floats vs ints and strings vs numbers, reference §7.3–§7.4); nothing here raises on odd input
except a response without a task id, which is useless.

Timestamps: DashScope writes ``YYYY-MM-DD HH:mm:ss.SSS`` without a zone. The documented examples
line up with Beijing time, so they are read as UTC+8 (Asia/Shanghai has no DST) and converted to
aware UTC. List rows carry epoch milliseconds, which are zone-free.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from core.domain.tasks import TaskInfo, TaskStatus, TaskSummary, Usage

log = logging.getLogger(__name__)

#: the zone DashScope's naive timestamps are written in (see module docstring)
DASHSCOPE_TZ = timezone(timedelta(hours=8), "UTC+8")

_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S")


class MalformedResponse(ValueError):
    """The body is not the JSON shape we need (no task id, not an object)."""


def parse_time(value: object) -> datetime | None:
    """A DashScope time (string in UTC+8, epoch s/ms, ISO with zone) as aware UTC, or None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000.0 if value > 10**11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit() and len(text) != 14:  # 14 digits is YYYYMMDDhhmmss, else epoch s/ms
        return parse_time(int(text))
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=DASHSCOPE_TZ).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        log.debug("unparseable DashScope time %r", value)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=DASHSCOPE_TZ)
    return parsed.astimezone(UTC)


def format_time(when: datetime) -> str:
    """Aware datetime → ``YYYYMMDDhhmmss`` in DashScope's zone (the list filter format)."""
    return when.astimezone(DASHSCOPE_TZ).strftime("%Y%m%d%H%M%S")


def parse_status(value: object) -> TaskStatus:
    try:
        return TaskStatus(str(value).upper())
    except ValueError:
        # SUSPENDED and anything new: not terminal, keep polling (what the SDK does, §12.3)
        log.info("unexpected DashScope task status %r, treating it as RUNNING", value)
        return TaskStatus.RUNNING


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("Pp"))
        except ValueError:
            return None
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_usage(raw: object) -> Usage | None:
    """Every family's usage shape (reference §5.3–§5.5, §7.3).

    wan2.6 / wan2.7: ``duration`` (billed: input + output) + ``input_video_duration`` +
    ``output_video_duration`` + ``SR`` (+ ``audio`` on wan2.6 flash); a wan2.7 continuation bills
    the whole ``duration``, the re-emitted clip included. Wan 3.0: the same as floats, plus
    ``fps`` and ``ratio``. wan2.2/2.5: ``duration`` + ``SR``. wan2.1 and kf2v:
    ``video_duration`` (+ ``SR`` on wan2.2-kf2v, ``video_ratio`` on 2.1).
    """
    if not isinstance(raw, Mapping):
        return None
    seconds = _num(raw.get("duration"))
    if seconds is None:
        seconds = _num(raw.get("output_video_duration"))
    if seconds is None:
        seconds = _num(raw.get("video_duration"))
    if seconds is None:
        return None
    tier = _num(raw.get("SR") or raw.get("sr"))
    count = _num(raw.get("video_count"))
    sound = raw.get("audio")
    return Usage(
        seconds=seconds,
        resolution_tier=int(tier) if tier is not None else None,
        video_count=int(count) if count is not None else 1,
        sound=sound if isinstance(sound, bool) else None,
        input_seconds=_num(raw.get("input_video_duration")),
        output_seconds=_num(raw.get("output_video_duration")),
        ratio=_str(raw.get("ratio")),
    )


def parse_task(payload: object) -> TaskInfo:
    """A create or query response body → ``TaskInfo`` (without ``error``; the client adds it)."""
    if not isinstance(payload, Mapping):
        raise MalformedResponse("response is not a JSON object")
    output = payload.get("output")
    if not isinstance(output, Mapping):
        raise MalformedResponse("response has no output object")
    task_id = _str(output.get("task_id"))
    if task_id is None:
        raise MalformedResponse("response has no task id")
    return TaskInfo(
        task_id=task_id,
        status=parse_status(output.get("task_status", "UNKNOWN")),
        video_url=_str(output.get("video_url")),
        orig_prompt=_str(output.get("orig_prompt")),
        actual_prompt=_str(output.get("actual_prompt")),
        code=_str(output.get("code")),
        message=_str(output.get("message")),
        usage=parse_usage(payload.get("usage")),
        submit_time=parse_time(output.get("submit_time")),
        scheduled_time=parse_time(output.get("scheduled_time")),
        end_time=parse_time(output.get("end_time")),
        request_id=_str(payload.get("request_id")),
    )


def parse_task_list(payload: object) -> tuple[list[TaskSummary], int | None]:
    """List rows (``data`` or ``tasks`` array) and the total page count if given."""
    if not isinstance(payload, Mapping):
        raise MalformedResponse("task list is not a JSON object")
    rows: Any = payload.get("data")
    if not isinstance(rows, list):
        rows = payload.get("tasks")
    if not isinstance(rows, list):
        output = payload.get("output")
        rows = output.get("data") if isinstance(output, Mapping) else None
    if not isinstance(rows, list):
        rows = []
    out: list[TaskSummary] = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        task_id = _str(row.get("task_id"))
        if task_id is None:
            continue
        created = None
        for key in ("gmt_create", "submit_time", "start_time", "created_at"):
            created = parse_time(row.get(key))
            if created is not None:
                break
        out.append(
            TaskSummary(
                task_id=task_id,
                status=parse_status(row.get("status") or row.get("task_status") or "UNKNOWN"),
                model=_str(row.get("model_name")) or _str(row.get("model")),
                created_at=created,
            )
        )
    pages = _num(payload.get("total_page"))
    return out, int(pages) if pages is not None else None
