"""The state machine, directly: the one transition table and the one way a row changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import AnimateError, Kind, ValidationError
from core.domain.jobs import (
    ACTIVE,
    FINAL,
    TRANSITIONS,
    ChatRef,
    JobSpec,
    JobStatus,
    JobView,
    being_posted,
)
from core.domain.records import JobRecord, TransitionError, expired, failed, transition

T = datetime(2026, 1, 1, tzinfo=UTC)
S = JobStatus


def record(status: JobStatus = S.QUEUED, **kw: object) -> JobRecord:
    return JobRecord(
        id=7,
        status=status,
        spec=JobSpec(model="wan2.6-i2v-flash", prompt="p", resolution="720P", duration=5),
        chat=ChatRef("discord", "u", "c", guild="g"),
        region="cn-beijing",
        created_at=T,
        updated_at=T,
        currency="CNY",
        **kw,  # type: ignore[arg-type]  # JobRecord fields
    )


def test_every_status_has_a_row_and_final_ones_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(S)
    assert all(TRANSITIONS[s] == frozenset() for s in FINAL)
    assert all(S.DELIVERED in TRANSITIONS[s] for s in (S.FAILED, S.CANCELED, S.EXPIRED))
    # every active status can still end (fail, or reach the outcome states)
    assert all(TRANSITIONS[s] for s in ACTIVE)


@pytest.mark.parametrize(
    ("old", "new"),
    [(S.QUEUED, S.RUNNING), (S.DELIVERED, S.QUEUED), (S.RUNNING, S.QUEUED), (S.FAILED, S.RUNNING)],
)
def test_a_change_the_table_forbids_is_refused(old: JobStatus, new: JobStatus) -> None:
    with pytest.raises(TransitionError, match=f"{old.value} -> {new.value}"):
        transition(record(old), new, T)


def test_a_status_change_makes_delivery_due_and_final_clears_the_schedule() -> None:
    later = T + timedelta(seconds=5)
    moved = transition(record(S.QUEUED, next_at=T), S.SUBMITTING, later)
    assert (moved.status, moved.deliver_at, moved.updated_at) == (S.SUBMITTING, later, later)
    same = transition(record(S.RUNNING), S.RUNNING, later, attempts=2)
    assert same.deliver_at is None and same.attempts == 2  # no change of state, no edit
    done = transition(record(S.DOWNLOADED, next_at=T), S.DELIVERED, later)
    assert done.next_at is None


def test_failed_keeps_the_text_the_key_and_the_parameters() -> None:
    error = ValidationError(
        "wan2.2-i2v-flash cannot use an audio file.",
        key="audio.model",
        params={"model": "wan2.2-i2v-flash"},
    )
    out = failed(record(S.QUEUED), T, error)
    assert out.status is S.FAILED and out.error_message == error.message
    assert (out.error_key, dict(out.error_params)) == ("audio.model", {"model": "wan2.2-i2v-flash"})
    assert out.error_code == Kind.INVALID_INPUT.value


def test_an_error_without_a_key_still_stores_its_kind_as_the_key() -> None:
    out = failed(record(S.RUNNING), T, AnimateError("boom", kind=Kind.BUSY))
    assert out.error_key == "busy" and dict(out.error_params) == {}
    gone = expired(record(S.RUNNING), T, "too old", key="task.forgotten")
    assert (gone.status, gone.error_key) == (S.EXPIRED, "task.forgotten")


def test_a_message_may_be_on_screen_before_it_is_recorded() -> None:
    """A click on a just-posted message is asked to wait, not refused as foreign (the
    playground's Extend test clicked a result in the instant before it was recorded)."""
    chat = ChatRef("discord", "u", "c", guild="g", status_message="m1")
    view = JobView(
        id=1,
        status=S.QUEUED,
        spec=JobSpec("wan2.6-i2v-flash", "p", "720P", 5),
        chat=replace(chat, status_message=None),
        created_at=T,
        updated_at=T,
    )
    assert being_posted(view), "the status message, before its id is recorded"
    assert not being_posted(replace(view, chat=chat)), "recorded: a click elsewhere is foreign"
    for status in (S.DOWNLOADED, S.FAILED, S.CANCELED, S.EXPIRED):
        shown = replace(view, chat=chat, status=status)
        assert being_posted(shown), f"{status}: the result or notice, before it is recorded"
        assert not being_posted(replace(shown, posted_message_id="m2"))
    for status in (S.DELIVERED, S.DELIVERY_FAILED):
        assert not being_posted(replace(view, chat=chat, status=status))
