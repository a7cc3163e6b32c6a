"""The ledger in SQL: a job's charge as column expressions, and the quota checks, for both stores.

The same rules as ``core.domain.ledger.charge_of`` (``tests/storage`` checks that the sums
agree): billed once DashScope made the video (usage, cost or result link recorded), reserved
while the job is in a status that may still be billed, refunded otherwise. Status names are our
own enum values, written into the SQL as literals; every other value is a bound parameter.
Only the placeholder style (``?`` / ``%s``) and how a time is bound differ between backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain.jobs import ACTIVE, JobStatus
from core.domain.ledger import EPSILON, RESERVING, Scope
from core.domain.quota import Quota


def _statuses(statuses: frozenset[JobStatus]) -> str:
    return ", ".join(f"'{s.value}'" for s in sorted(statuses))


_BILLED = "(cost IS NOT NULL OR usage_seconds IS NOT NULL OR video_url IS NOT NULL)"
_HOLDS = f"({_BILLED} OR status IN ({_statuses(RESERVING)}))"
#: money charged (actual cost, else the estimate while billed or reserved, else 0)
MONEY = f"(CASE WHEN cost IS NOT NULL THEN cost WHEN {_HOLDS} THEN cost_estimate ELSE 0 END)"
#: video-seconds charged (billed usage, else the requested duration while held, else 0)
SECONDS = (
    f"(CASE WHEN usage_seconds IS NOT NULL THEN usage_seconds WHEN {_HOLDS} THEN duration "
    "ELSE 0 END)"
)
#: 1 for a video billed or reserved, 0 for one refunded
HELD = f"(CASE WHEN {_HOLDS} THEN 1 ELSE 0 END)"
REFUNDED = f"(CASE WHEN {_HOLDS} THEN 0 ELSE 1 END)"
#: one row's contribution to a ``Spend``: videos, refunded, seconds, money
SPEND_COLUMNS = (
    f"COALESCE(SUM({HELD}), 0), COALESCE(SUM({REFUNDED}), 0), "
    f"COALESCE(SUM({SECONDS}), 0), COALESCE(SUM({MONEY}), 0)"
)
_ACTIVE = _statuses(ACTIVE)


@dataclass
class Sql:
    """A SQL fragment and its parameters, built for one placeholder style."""

    ph: str  # "?" or "%s"
    time: Callable[[datetime], Any]  # how a datetime is bound (epoch seconds, or as it is)
    text: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, text: str, *params: Any) -> Sql:
        self.text.append(text.replace("?", self.ph))
        self.params.extend(params)
        return self

    def sql(self, sep: str = " ") -> str:
        return sep.join(self.text)


def scope_where(scope: Scope, out: Sql) -> Sql:
    """``WHERE`` terms (no keyword) for the jobs of ``scope``; uses the user / guild indexes."""
    if scope.user is not None:
        return out.add("platform = ? AND user_id = ?", scope.platform, scope.user)
    if scope.guild is not None:
        return out.add("platform = ? AND guild_id = ?", scope.platform, scope.guild)
    return out.add("platform = ? AND guild_id IS NULL", scope.platform)


def _sub(quota: Quota, what: str, out: Sql) -> Sql:
    """One subquery of ``quota``'s usage, appended to ``out`` (parenthesised)."""
    user = Scope.of_user(quota.platform, quota.user)
    if what == "active":
        out.add("(SELECT COUNT(*) FROM jobs WHERE")
        scope_where(user, out)
        return out.add(f"AND status IN ({_ACTIVE}))")
    if what == "seconds":
        out.add(f"(SELECT COALESCE(SUM({SECONDS}), 0) FROM jobs WHERE")  # noqa: S608 - fixed fragments of storage._charges; every value is bound
        scope_where(user, out)
        return out.add("AND created_at >= ?)", out.time(quota.day_start))
    if what == "money":
        out.add(f"(SELECT COALESCE(SUM({MONEY}), 0) FROM jobs WHERE")  # noqa: S608 - fixed fragments of storage._charges; every value is bound
        scope_where(Scope.of_guild(quota.platform, quota.guild), out)
        return out.add(
            "AND currency = ? AND created_at >= ?)", quota.currency, out.time(quota.month_start)
        )
    out.add("(SELECT MAX(created_at) FROM jobs WHERE")
    scope_where(user, out)
    return out.add(")")


def usage_select(quota: Quota, out: Sql) -> Sql:
    """``SELECT`` active count, day seconds, month money, last request time."""
    out.add("SELECT")
    for i, what in enumerate(("active", "seconds", "money", "last")):
        if i:
            out.add(",")
        _sub(quota, what, out)
    return out


def quota_conditions(quota: Quota, *, seconds: float, money: float, out: Sql) -> Sql:
    """``WHERE`` terms (no keyword) that hold only if a job of ``seconds`` costing ``money``
    fits every limit of ``quota``."""
    lim = quota.limits
    out.add("1 = 1")
    if lim.active_jobs:
        out.add("AND")
        _sub(quota, "active", out).add("< ?", lim.active_jobs)
    if lim.cooldown_seconds:
        out.add("AND NOT EXISTS (SELECT 1 FROM jobs WHERE")
        scope_where(Scope.of_user(quota.platform, quota.user), out)
        out.add("AND created_at > ?)", out.time(quota.cooldown_since))
    if lim.daily_seconds:
        out.add("AND")
        _sub(quota, "seconds", out).add("+ ? <= ?", seconds, lim.daily_seconds + EPSILON)
    if lim.monthly_budget:
        out.add("AND")
        _sub(quota, "money", out).add("+ ? <= ?", money, lim.monthly_budget + EPSILON)
    return out
