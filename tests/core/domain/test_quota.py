"""Quotas, the pure part: which limit refuses first, what it says, when it resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain.jobs import ChatRef
from core.domain.ledger import Money
from core.domain.quota import Limits, Quota, QuotaUsage, refusal

NOW = datetime(2026, 5, 31, 18, tzinfo=UTC)
CHAT = ChatRef("discord", "u", "c", "g")


def quota(**limits: float) -> Quota:
    return Quota.of(CHAT, Limits(**limits), NOW, "CNY")  # type: ignore[arg-type]  # the four limits by name


def test_no_limits_no_refusal() -> None:
    assert not quota().any
    big = QuotaUsage(active=99, day_seconds=1e6, month_money=1e6, last_request=NOW)
    assert refusal(quota(), big, seconds=15, money=15.0) is None


def test_the_active_cap_counts_requests_being_read_in() -> None:
    q = quota(active_jobs=2)
    assert refusal(q, QuotaUsage(active=1), seconds=5, money=1) is None
    error = refusal(q, QuotaUsage(active=1), seconds=5, money=1, pending=1)
    assert error is not None and error.key == "limit.active_jobs" and error.params == {"limit": 2}


def test_a_job_that_exactly_fits_passes_and_one_more_second_does_not() -> None:
    q = quota(daily_seconds=10, monthly_budget=3.0)
    fits = QuotaUsage(day_seconds=5.0, month_money=1.5)
    assert refusal(q, fits, seconds=5, money=1.5) is None
    error = refusal(q, fits, seconds=6, money=1.0)
    assert error is not None and error.key == "limit.daily_seconds"
    assert error.params["resets"] == datetime(2026, 6, 1, tzinfo=UTC)
    # 0.1 + 0.2 style sums do not refuse a job that fits to the cent
    assert (
        refusal(quota(monthly_budget=0.3), QuotaUsage(month_money=0.1 + 0.2), seconds=0, money=0)
        is None
    )


def test_the_budget_names_money_and_resets_on_the_first() -> None:
    error = refusal(quota(monthly_budget=10), QuotaUsage(month_money=9.0), seconds=5, money=2.5)
    assert error is not None and error.key == "limit.monthly_budget"
    assert error.params == {
        "used": Money(9.0, "CNY"),
        "budget": Money(10.0, "CNY"),
        "need": Money(2.5, "CNY"),
        "resets": datetime(2026, 6, 1, tzinfo=UTC),
    }
    assert "nothing was spent" in error.message


def test_the_cooldown_counts_from_the_last_request() -> None:
    q = quota(cooldown_seconds=60)
    recent = QuotaUsage(last_request=NOW - timedelta(seconds=20))
    error = refusal(q, recent, seconds=5, money=1)
    assert error is not None and error.params["resets"] == NOW + timedelta(seconds=40)
    assert (
        refusal(q, QuotaUsage(last_request=NOW - timedelta(seconds=60)), seconds=5, money=1) is None
    )
