"""JSON → value objects: timestamps, the three usage generations, list shapes, error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.domain.errors import Input
from core.domain.tasks import TaskStatus, Usage
from providers._errors import moderation_subject, parse_error_body, retry_after_seconds
from providers._parse import (
    MalformedResponse,
    format_time,
    parse_task,
    parse_task_list,
    parse_time,
    parse_usage,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-09-25 11:07:28.590", datetime(2025, 9, 25, 3, 7, 28, 590000, UTC)),
        ("2025-09-25 11:07:28", datetime(2025, 9, 25, 3, 7, 28, tzinfo=UTC)),
        (1691561396394, datetime(2023, 8, 9, 6, 9, 56, 394000, UTC)),
        ("1691561396394", datetime(2023, 8, 9, 6, 9, 56, 394000, UTC)),
        (1691561396, datetime(2023, 8, 9, 6, 9, 56, tzinfo=UTC)),
        ("20230420080000", datetime(2023, 4, 20, 0, 0, tzinfo=UTC)),
        ("2025-09-25T11:07:28+00:00", datetime(2025, 9, 25, 11, 7, 28, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("yesterday", None),
        (True, None),
    ],
)
def test_parse_time_reads_dashscope_times_as_utc8(raw: object, expected: datetime | None) -> None:
    assert parse_time(raw) == expected


def test_format_time_is_the_inverse_in_utc8() -> None:
    when = datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert format_time(when) == "20260101080005"
    assert parse_time(format_time(when)) == when


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (  # wan2.6-i2v-flash
            {"duration": 10, "input_video_duration": 0, "output_video_duration": 10,
             "SR": 720, "video_count": 1, "audio": False},
            Usage(10.0, 720, 1, False, input_seconds=0.0, output_seconds=10.0),
        ),
        ({"duration": 10.0, "SR": "1080", "video_count": 1}, Usage(10.0, 1080, 1, None)),  # 2.5
        ({"output_video_duration": 4, "SR": "720P"}, Usage(4.0, 720, 1, None, None, 4.0)),
        ({"video_duration": 3, "video_ratio": "standard", "video_count": 1},
         Usage(3.0, None, 1, None)),  # wan2.1
        (  # wan2.7 continuation of a 3 s clip to 15 s: billed for all 15 (§5.3)
            {"duration": 15, "input_video_duration": 3, "output_video_duration": 12,
             "video_count": 1, "SR": 720},
            Usage(15.0, 720, 1, None, input_seconds=3.0, output_seconds=12.0),
        ),
        (  # wan2.7 as the Java SDK prints it: floats and a string tier
            {"duration": 10.0, "input_video_duration": 0.0, "output_video_duration": 10.0,
             "video_count": 1, "SR": "720"},
            Usage(10.0, 720, 1, None, input_seconds=0.0, output_seconds=10.0),
        ),
        (  # Wan 3.0 (§5.5)
            {"video_count": 1, "duration": 5.0, "input_video_duration": 0.0,
             "output_video_duration": 5.0, "fps": 30, "SR": 720, "ratio": "16:9"},
            Usage(5.0, 720, 1, None, input_seconds=0.0, output_seconds=5.0, ratio="16:9"),
        ),
        ({"video_duration": 5, "video_count": 1, "SR": 480}, Usage(5.0, 480, 1, None)),  # kf2v 2.2
        ({"video_duration": 5, "video_count": 1, "video_ratio": "standard"},
         Usage(5.0, None, 1, None)),  # kf2v 2.1
        ({"video_count": 1}, None),
        ("nonsense", None),
        (None, None),
    ],
)  # fmt: skip
def test_usage_of_every_generation(raw: object, expected: Usage | None) -> None:
    assert parse_usage(raw) == expected


def test_parse_failed_task_and_unknown_status() -> None:
    info = parse_task(
        {
            "request_id": "r",
            "output": {
                "task_id": "t",
                "task_status": "FAILED",
                "code": "InvalidParameter",
                "message": "The size is not match xxxxxx",
            },
        }
    )
    assert (info.status, info.code, info.message, info.request_id) == (
        TaskStatus.FAILED,
        "InvalidParameter",
        "The size is not match xxxxxx",
        "r",
    )
    odd = parse_task({"output": {"task_id": "t", "task_status": "SUSPENDED"}})
    assert odd.status is TaskStatus.RUNNING  # not terminal: keep polling, as the SDK does


@pytest.mark.parametrize("payload", [[], {"output": None}, {"output": {"task_status": "PENDING"}}])
def test_parse_task_refuses_bodies_without_a_task(payload: object) -> None:
    with pytest.raises(MalformedResponse):
        parse_task(payload)


def test_task_list_tolerates_odd_rows() -> None:
    rows, pages = parse_task_list(
        {"data": [{"task_id": "a", "status": "RUNNING"}, "junk", {"status": "FAILED"}]}
    )
    assert [(r.task_id, r.status, r.model, r.created_at) for r in rows] == [
        ("a", TaskStatus.RUNNING, None, None)
    ]
    assert pages is None
    assert parse_task_list({"nothing": 1}) == ([], None)


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b'{"code":"X","message":"m","request_id":"r"}', "X", "m"),
        (b'{"code":"X","msg":"via msg"}', "X", "via msg"),
        (b"<html>502 Bad Gateway</html>", None, "<html>502 Bad Gateway</html>"),
        (b"", None, None),
        (b"[1, 2]", None, "[1, 2]"),
        (b"\xff\xfe garbage", None, "\ufffd\ufffd garbage"),
    ],
)
def test_error_bodies_never_raise(raw: bytes, code: str | None, message: str | None) -> None:
    body = parse_error_body(raw)
    assert (body.code, body.message) == (code, message)


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    date = "Thu, 01 Jan 2026 00:00:10 GMT"
    assert retry_after_seconds({"Retry-After": date}, now=1_767_225_600.0) == 10.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        ("Input data may contain inappropriate content.", Input.UNKNOWN),
        ("Output data may contain inappropriate content.", Input.OUTPUT),
        ("Input image data may contain inappropriate content.", Input.IMAGE),
        ("Input text data may contain inappropriate content.", Input.PROMPT),
        (None, Input.UNKNOWN),
    ],
)
def test_moderation_subject(message: str | None, subject: Input) -> None:
    assert moderation_subject(message) is subject
