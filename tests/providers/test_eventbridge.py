"""EventBridge task-finish events → ``TaskEvent`` (reference §14.3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.domain.tasks import TaskEvent, TaskStatus
from providers.eventbridge import MAX_EVENT_BYTES, MalformedEvent, parse_event

# §14.3, typed in from the reference's verbatim example (an ASR task there)
EXAMPLE: dict[str, Any] = {
    "datacontenttype": "application/json;charset=utf-8",
    "aliyunaccountid": "xxxxx",
    "aliyunpublishtime": "2023-10-25T01:45:16.993Z",
    "data": {
        "start_time": "2023-10-25 09:45:09",
        "user_api_unique_key": "apikey:v1:audio:asr:transcription:paraformer-8k-v1",
        "task_status": "SUCCEEDED",
        "contain_result": False,
        "end_time": "2023-10-25 09:45:16",
        "task_id": "a154c328-xxxx-xxxx-xxxx-e52a9a7e9a35",
        "region": "cn-beijing",
        "request_id": "108f38f5-xxxx-xxxx-xxxx-6504db9080b3",
        "api_key_id": "1250",
    },
    "aliyunoriginalaccountid": "xxxxxxxx",
    "specversion": "1.0",
    "aliyuneventbusname": "default",
    "id": "81765e5b-xxxx-xxxx-xxxx-bbad8dde2bd9",
    "source": "acs.dashscope",
    "time": "2023-1-25T01:45:16.969Z",
    "aliyunregionid": "cn-beijing",
    "type": "dashscope:System:AsyncTaskFinish",
}


def body(**changes: Any) -> bytes:
    event = json.loads(json.dumps(EXAMPLE))
    data = changes.pop("data", {})
    event.update(changes)
    event["data"].update(data)
    return json.dumps(event).encode()


def test_the_documented_example_parses() -> None:
    assert parse_event(json.dumps(EXAMPLE).encode()) == TaskEvent(
        event_id="81765e5b-xxxx-xxxx-xxxx-bbad8dde2bd9",
        task_id="a154c328-xxxx-xxxx-xxxx-e52a9a7e9a35",
        status=TaskStatus.SUCCEEDED,
        model="paraformer-8k-v1",
    )


def test_a_failed_video_task_names_its_model() -> None:
    key = "apikey:v1:aigc:video-generation:video-synthesis:wan2.6-i2v-flash"
    got = parse_event(body(data={"task_status": "FAILED", "user_api_unique_key": key}))
    assert got is not None and (got.status, got.model) == (TaskStatus.FAILED, "wan2.6-i2v-flash")


def test_other_cloudevents_are_not_ours_and_not_errors() -> None:
    assert parse_event(body(type="acs.oss:ObjectCreated:PutObject")) is None
    assert parse_event(body(source="acs.oss")) is None


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (body(id=""), "'id'"),
        (body(id=7), "'id'"),
        (json.dumps({**EXAMPLE, "data": "x"}).encode(), "'data' object"),
        (body(data={"task_id": None}), "'task_id'"),
        (body(data={"task_status": "DONE"}), "unknown task_status"),
        (b" " * (MAX_EVENT_BYTES + 1), "bytes"),
    ],
)
def test_what_is_not_an_event_is_refused_with_the_reason(raw: bytes, why: str) -> None:
    with pytest.raises(MalformedEvent, match=why):
        parse_event(raw)
