"""Quotas, the pure part: the limits one request must fit, and the refusal when it does not.

Four limits, each 0 = none: unfinished jobs per requester, video-seconds per requester per UTC day,
cooldown between a requester's requests, and money per server per UTC month (in the region's
currency; direct messages share one budget). Requester limits count a user's jobs everywhere on
the platform (so joining another server does not give a user a fresh allowance); the budget
counts one server's jobs.

The store checks a ``Quota`` atomically with the insert of the job row
(``JobStore.insert_job_within``); the same numbers (``QuotaUsage``) tell the requester which limit
refused, the current usage and when it resets. Nothing here is kept in memory: every number
comes from the job rows (``core.domain.ledger``), so limits survive restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.errors import AnimateError, Kind
from core.domain.jobs import ChatRef
from core.domain.ledger import EPSILON, Money, day_start, month_start, next_day, next_month


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits that apply to one requester in one place (0 = no limit)."""

    active_jobs: int = 0
    daily_seconds: int = 0
    cooldown_seconds: int = 0
    monthly_budget: float = 0.0


@dataclass(frozen=True, slots=True)
class Quota:
    """What inserting one job for ``user`` (in ``guild``; None: a DM) at ``now`` must fit."""

    platform: str
    user: str
    guild: str | None
    now: datetime
    currency: str
    limits: Limits

    @classmethod
    def of(cls, chat: ChatRef, limits: Limits, now: datetime, currency: str) -> Quota:
        return cls(chat.platform, chat.user, chat.guild, now, currency, limits)

    @property
    def any(self) -> bool:
        lim = self.limits
        return bool(
            lim.active_jobs or lim.daily_seconds or lim.cooldown_seconds or lim.monthly_budget
        )

    @property
    def day_start(self) -> datetime:
        return day_start(self.now)

    @property
    def month_start(self) -> datetime:
        return month_start(self.now)

    @property
    def cooldown_since(self) -> datetime:
        """A request recorded after this time is too recent (cooldown)."""
        return self.now - timedelta(seconds=self.limits.cooldown_seconds)


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """Where a requester (and their server) stand against a ``Quota``, from the job rows."""

    active: int = 0
    day_seconds: float = 0.0
    month_money: float = 0.0
    last_request: datetime | None = None


def refusal(
    quota: Quota, usage: QuotaUsage, *, seconds: float, money: float, pending: int = 0
) -> AnimateError | None:
    """The refusal for a job of ``seconds`` costing ``money`` (None: it fits). ``pending``:
    the requester's requests still being read in (they count against the active cap)."""
    lim = quota.limits
    if lim.active_jobs and usage.active + pending >= lim.active_jobs:
        return too_many_active(lim.active_jobs)
    if lim.cooldown_seconds and usage.last_request is not None:
        ready = usage.last_request + timedelta(seconds=lim.cooldown_seconds)
        if ready > quota.now:
            return cooling_down(lim.cooldown_seconds, ready)
    if lim.daily_seconds and usage.day_seconds + seconds > lim.daily_seconds + EPSILON:
        return over_daily_seconds(
            used=usage.day_seconds,
            limit=lim.daily_seconds,
            need=seconds,
            resets=next_day(quota.now),
        )
    if lim.monthly_budget and usage.month_money + money > lim.monthly_budget + EPSILON:
        return over_budget(
            used=Money(usage.month_money, quota.currency),
            budget=Money(lim.monthly_budget, quota.currency),
            need=Money(money, quota.currency),
            resets=next_month(quota.now),
        )
    return None


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 1)


def price_unknown(model: str) -> AnimateError:
    return AnimateError(
        f"This server has a monthly budget, and {model} has no known price yet, so the bot "
        "cannot count it against the budget. Pick another model, or ask the bot's operator to "
        "set its price (PRICE_OVERRIDES); nothing was spent.",
        key="limit.price_unknown",
        params={"model": model},
        kind=Kind.PERMISSION,
    )


def too_many_active(limit: int) -> AnimateError:
    return AnimateError(
        f"You have reached the limit of unfinished videos per person ({limit}). A place frees "
        "up when one of yours finishes, or when you cancel one that is still queued; nothing "
        "was spent.",
        key="limit.active_jobs",
        params={"limit": limit},
        kind=Kind.RATE_LIMITED,
        retryable=True,
    )


def cooling_down(cooldown: int, ready: datetime) -> AnimateError:
    return AnimateError(
        f"Please wait between videos: this server asks for {cooldown} s between requests. "
        f"You can start the next one at {ready:%H:%M:%S} UTC; nothing was spent.",
        key="limit.cooldown",
        params={"cooldown": cooldown, "resets": ready},
        kind=Kind.RATE_LIMITED,
        retryable=True,
    )


def over_daily_seconds(*, used: float, limit: int, need: float, resets: datetime) -> AnimateError:
    return AnimateError(
        f"That would go over your daily allowance: you have used {_num(used)} of your "
        f"{limit} video-seconds today and this video needs {_num(need)}. The allowance resets "
        f"at {resets:%Y-%m-%d %H:%M} UTC; nothing was spent.",
        key="limit.daily_seconds",
        params={"used": _num(used), "limit": limit, "need": _num(need), "resets": resets},
        kind=Kind.RATE_LIMITED,
        retryable=True,
    )


def over_budget(*, used: Money, budget: Money, need: Money, resets: datetime) -> AnimateError:
    return AnimateError(
        f"That would go over this server's monthly budget: {used} of {budget} is spent or "
        f"reserved this month and this video would cost about {need}. The budget resets at "
        f"{resets:%Y-%m-%d %H:%M} UTC; nothing was spent.",
        key="limit.monthly_budget",
        params={"used": used, "budget": budget, "need": need, "resets": resets},
        kind=Kind.QUOTA,
        retryable=True,
    )
