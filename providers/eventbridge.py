"""DashScope's task-finish events, as EventBridge delivers them (reference §14.3) → ``TaskEvent``.

The HTTP target is configured with Body = the whole event: a structured CloudEvents 1.0 JSON
object whose ``data`` names the task and its final status. Nothing else is trusted from it: the
result is read with one ``GET /tasks/{id}``.

Two kinds of bad input are told apart, because EventBridge retries any non-2xx answer for up to
a day (§14.5): a body that is not such an event at all is *malformed* (``MalformedEvent``: the
sender is not EventBridge, or the rule sends something else — worth a 400 and a look), while a
well-formed CloudEvent of another type (a broad rule forwarding other events) is merely *not
ours* (``None``: acknowledge and forget it).
"""

from __future__ import annotations

import json
from typing import Any

from core.domain.tasks import TaskEvent, TaskStatus

#: the event type and source of a finished Model Studio async task (§14.1)
EVENT_TYPE = "dashscope:System:AsyncTaskFinish"
EVENT_SOURCE = "acs.dashscope"
#: a real event is well under 2 KB; anything far bigger is not one
MAX_EVENT_BYTES = 64 * 1024


class MalformedEvent(ValueError):
    """The body is not a CloudEvent with the fields a task-finish event carries."""


def parse_event(body: bytes) -> TaskEvent | None:
    """The task-finish event in ``body``; None for a CloudEvent of another type or source."""
    if len(body) > MAX_EVENT_BYTES:
        raise MalformedEvent(f"the body is {len(body)} bytes; an event is a few hundred")
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"the body is not JSON ({exc})") from None
    if not isinstance(event, dict):
        raise MalformedEvent("the body is not a JSON object")
    # the CloudEvents attributes every event has, whatever its type
    event_id = _text(event, "id")
    if (_text(event, "type"), _text(event, "source")) != (EVENT_TYPE, EVENT_SOURCE):
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("a task-finish event needs a 'data' object")
    task_id = _text(data, "task_id")
    raw_status = _text(data, "task_status")
    try:
        status = TaskStatus(raw_status)
    except ValueError:
        raise MalformedEvent(f"unknown task_status {raw_status[:40]!r}") from None
    return TaskEvent(event_id=event_id, task_id=task_id, status=status, model=_model(data))


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise MalformedEvent(f"'{name}' must be a short, non-empty string")
    return value.strip()


def _model(data: dict[str, Any]) -> str | None:
    """The last field of ``apikey:version:group:task:function-call:model`` (§14.2)."""
    key = data.get("user_api_unique_key")
    if not isinstance(key, str) or ":" not in key:
        return None
    return key.rsplit(":", 1)[1] or None
