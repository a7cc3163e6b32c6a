"""The ledger, the pure part: what a job costs its server and its requester, from its row alone.

The job rows are the ledger. A job's charge is a function of its row (status, estimate, actual
cost, usage, result link), so it changes in the very conditional update that changes the job:

* **reserved** while the job may still be billed (queued … generating): its estimate (catalog
  price × seconds × resolution, with the model's silent discount), recorded at submit;
* **billed** once DashScope made the video (the row has the usage, the cost or the result link):
  the actual cost from the task's ``usage`` (``Model.cost``), or the estimate when DashScope sent
  no usage; a video fetched or posted badly afterwards stays billed, as DashScope billed it;
* **refunded** when it ended without a video (failed, moderated, canceled, expired): DashScope
  bills none of these, so nothing is held.

There is no second record to write, so a crash can neither count a job twice nor lose a refund.
Sums over these charges (per requester per day, per server per month) are computed by the store
(``core.ports.JobStore.spend``) with the same rules; ``tests/storage`` checks that both agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from core.domain.jobs import ACTIVE, JobSpec, JobStatus

#: statuses in which a job that has no video yet still holds its estimate
RESERVING = frozenset({*ACTIVE, JobStatus.DOWNLOADED})
#: sums of money are compared with this slack (float sums of prices like 0.1 + 0.2)
EPSILON = 1e-6

_SYMBOL = {"CNY": "¥", "USD": "$"}


class ChargeState(StrEnum):
    RESERVED = "reserved"
    BILLED = "billed"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the region's currency (DashScope bills CNY in China and the US, USD in
    Singapore: ``core.domain.catalog.CURRENCY``)."""

    amount: float
    currency: str

    def __str__(self) -> str:
        symbol = _SYMBOL.get(self.currency)
        return f"{symbol}{self.amount:.2f}" if symbol else f"{self.amount:.2f} {self.currency}"


class Billable(Protocol):
    """What a charge is computed from: a ``JobRecord`` or a ``JobView``."""

    @property
    def status(self) -> JobStatus: ...
    @property
    def spec(self) -> JobSpec: ...
    @property
    def cost(self) -> float | None: ...
    @property
    def cost_estimate(self) -> float: ...
    @property
    def usage_seconds(self) -> float | None: ...
    @property
    def video_url(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Charge:
    state: ChargeState
    money: float
    seconds: float


def charge_of(job: Billable) -> Charge:
    """The job's charge now (see the module docstring)."""
    billed = job.cost is not None or job.usage_seconds is not None or job.video_url is not None
    if billed:
        money = job.cost if job.cost is not None else job.cost_estimate
        seconds = job.usage_seconds if job.usage_seconds is not None else float(job.spec.duration)
        return Charge(ChargeState.BILLED, money, seconds)
    if job.status in RESERVING:
        return Charge(ChargeState.RESERVED, job.cost_estimate, float(job.spec.duration))
    return Charge(ChargeState.REFUNDED, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Spend:
    """A sum of charges: videos billed or reserved, videos refunded, seconds and money."""

    videos: int = 0
    refunded: int = 0
    seconds: float = 0.0
    money: float = 0.0


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose jobs a sum covers: one requester everywhere on a platform (``user``), or one
    server (``guild``; ``None`` with no user: the direct messages, which share one budget)."""

    platform: str
    user: str | None = None
    guild: str | None = None

    @classmethod
    def of_user(cls, platform: str, user: str) -> Scope:
        return cls(platform, user=user)

    @classmethod
    def of_guild(cls, platform: str, guild: str | None) -> Scope:
        return cls(platform, guild=guild)


# ---- periods (UTC calendar days and months) ----------------------------------------------


def day_start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day: daily allowances count from here."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def next_day(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def month_start(now: datetime) -> datetime:
    """Midnight UTC on the first of ``now``'s month: monthly budgets count from here."""
    return day_start(now).replace(day=1)


def next_month(now: datetime) -> datetime:
    start = month_start(now)
    return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
