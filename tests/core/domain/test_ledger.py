"""The ledger's pure rules: a job's charge from its row, money as shown, UTC periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.ledger import (
    ChargeState,
    Money,
    charge_of,
    day_start,
    month_start,
    next_day,
    next_month,
)

T = datetime(2026, 1, 1, 12, tzinfo=UTC)
VIEW = JobView(
    id=1,
    status=JobStatus.QUEUED,
    spec=JobSpec("wan2.6-i2v-flash", "p", "720P", 5),
    chat=ChatRef("discord", "u", "c", "g"),
    created_at=T,
    updated_at=T,
    cost_estimate=1.5,
)
S = JobStatus


@pytest.mark.parametrize("status", [S.QUEUED, S.SUBMITTING, S.SUBMIT_UNKNOWN, S.PENDING, S.RUNNING])
def test_an_unfinished_job_holds_its_estimate(status: JobStatus) -> None:
    charge = charge_of(replace(VIEW, status=status))
    assert (charge.state, charge.money, charge.seconds) == (ChargeState.RESERVED, 1.5, 5.0)


@pytest.mark.parametrize(
    "status", [S.FAILED, S.CANCELED, S.EXPIRED, S.DELIVERED, S.DELIVERY_FAILED]
)
def test_an_ending_without_a_video_is_refunded(status: JobStatus) -> None:
    charge = charge_of(replace(VIEW, status=status))
    assert (charge.state, charge.money, charge.seconds) == (ChargeState.REFUNDED, 0.0, 0.0)


@pytest.mark.parametrize("status", [S.SUCCEEDED, S.DOWNLOADED, S.DELIVERED, S.FAILED, S.EXPIRED])
def test_a_made_video_is_billed_whatever_happened_after(status: JobStatus) -> None:
    """DashScope bills a video it made even when fetching or posting it failed later."""
    billed = replace(VIEW, status=status, video_url="u", usage_seconds=4.0, cost=1.2)
    assert charge_of(billed) == charge_of(replace(billed, status=S.SUCCEEDED))
    charge = charge_of(billed)
    assert (charge.state, charge.money, charge.seconds) == (ChargeState.BILLED, 1.2, 4.0)
    # no usage came back: the estimate stands for the cost
    unknown = charge_of(replace(VIEW, status=status, video_url="u"))
    assert (unknown.state, unknown.money, unknown.seconds) == (ChargeState.BILLED, 1.5, 5.0)


def test_money_is_shown_with_its_currency() -> None:
    assert str(Money(2.5, "CNY")) == "¥2.50"
    assert str(Money(0.0375, "USD")) == "$0.04"
    assert str(Money(3, "EUR")) == "3.00 EUR"


@pytest.mark.parametrize(
    ("now", "day", "tomorrow", "month", "next_first"),
    [
        (T, "2026-01-01", "2026-01-02", "2026-01-01", "2026-02-01"),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "2026-12-31", "2027-01-01", "2026-12-01",
         "2027-01-01"),
        (datetime(2028, 2, 29, 8, tzinfo=UTC), "2028-02-29", "2028-03-01", "2028-02-01",
         "2028-03-01"),
    ],
)  # fmt: skip
def test_periods_are_utc_days_and_months(
    now: datetime, day: str, tomorrow: str, month: str, next_first: str
) -> None:
    assert day_start(now).date().isoformat() == day and day_start(now).hour == 0
    assert next_day(now).date().isoformat() == tomorrow
    assert month_start(now).date().isoformat() == month
    assert next_month(now).date().isoformat() == next_first
