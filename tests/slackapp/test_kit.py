"""Block Kit rendering: states, buttons, languages, limits, and no pings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.domain.jobs import JobStatus
from slackapp import kit
from tests.fakeslack import pings
from tests.fakeslack._blocks import check_message_blocks
from tests.slackapp.conftest import view

NASTY = "<!channel> <@U0123ABCD> <!subteam^S1|x> & *bold*"


def actions(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (JobStatus.QUEUED, ["animate:cancel"]),
        (JobStatus.RUNNING, ["animate:cancel"]),
        (JobStatus.DOWNLOADED, []),
        (JobStatus.DELIVERED, ["animate:regen", "animate:show"]),
        (JobStatus.FAILED, ["animate:regen"]),
        (JobStatus.CANCELED, ["animate:regen"]),
        (JobStatus.DELIVERY_FAILED, ["animate:regen"]),
    ],
)
def test_status_message_buttons_follow_the_state(status: JobStatus, buttons: list[str]) -> None:
    text, blocks = kit.status_message(view(status, queue_position=2), "en-US")
    assert actions(blocks) == buttons
    assert all(e["value"] == "7" for b in blocks if b["type"] == "actions" for e in b["elements"])
    check_message_blocks(blocks)  # Slack's own limits, as the fake enforces them
    assert "job #7" in text


def test_nothing_rendered_from_user_text_can_ping() -> None:
    job = view(JobStatus.FAILED, error_message=f"refused: {NASTY}", actual_prompt=NASTY)
    job = dataclasses.replace(job, spec=dataclasses.replace(job.spec, prompt=NASTY))
    for text, blocks in (
        kit.status_message(job, "en-US"),
        kit.failure_message(job, "en-US"),
        kit.show_again(job, "en-US"),
        kit.jobs_list([job], "en-US"),
        kit.result_link(job, "en-US"),
    ):
        assert pings(text, blocks) <= {"<@U1>"}, (text, blocks)


def test_the_requesters_language_is_used() -> None:
    _, blocks = kit.status_message(view(JobStatus.RUNNING, locale="zh-CN"), "zh-CN")
    assert "生成中" in blocks[0]["text"]["text"]
    assert actions(blocks) == ["animate:cancel"]
    assert blocks[-1]["elements"][0]["text"]["text"] == "取消"


def test_a_failure_says_why_in_the_readers_language_from_the_error_key() -> None:
    job = view(
        JobStatus.FAILED,
        error_message="Slack no longer has that file.",
        error_key="slack.file.gone",
        error_code="invalid_input",
    )
    assert "Slack 上已没有这个文件" in kit.failure_reason("zh-CN", job)
    assert "Slack no longer has that file" in kit.failure_reason("en-US", job)
    unknown = view(JobStatus.FAILED, error_message="Stored English.", error_key="gone.key")
    assert kit.failure_reason("zh-CN", unknown).startswith("Stored English.")


def test_metadata_round_trip_and_foreign_messages() -> None:
    meta = kit.metadata(42, "result")
    assert kit.job_of({"metadata": meta}) == (42, {"job_id": 42, "role": "result"})
    assert kit.job_of({"metadata": {"event_type": "other", "event_payload": {"job_id": 1}}}) is None
    assert kit.job_of({"metadata": {"event_type": kit.EVENT_TYPE, "event_payload": {}}}) is None
    assert kit.job_of({}) is None


def test_the_jobs_list_keeps_whole_lines_within_a_section() -> None:
    jobs = [view(JobStatus.QUEUED, job_id=i) for i in range(60)]
    _, blocks = kit.jobs_list(jobs, "en-US")
    body = blocks[1]["text"]["text"]
    assert len(body) <= kit.SECTION_MAX
    assert all(line.startswith("#") and line.endswith("the cat waves") for line in body.split("\n"))
    check_message_blocks(blocks)


def test_a_link_result_keeps_the_signed_url_out_of_mrkdwn() -> None:
    job = view(JobStatus.DOWNLOADED)
    text, blocks = kit.result_link(job, "en-US")
    assert job.video_url is not None and job.video_url not in text
    assert blocks[-1]["elements"][0]["url"] == job.video_url
    no_link = view(JobStatus.DOWNLOADED, video_url=None)
    text, blocks = kit.result_link(no_link, "en-US")
    assert "no download link" in text and actions(blocks) == []
