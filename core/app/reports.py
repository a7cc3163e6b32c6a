"""Usage reports from the ledger (the job rows): a requester's, and a server's for its admins.

Every number is a sum of ``core.domain.ledger`` charges computed by the store, so it matches what
the quota checks count: reserved estimates of unfinished jobs, actual costs of made videos,
nothing for refunded ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.app.controls import Controls, not_admin
from core.domain.jobs import ACTIVE, ChatRef
from core.domain.ledger import Scope, Spend, day_start, month_start, next_day, next_month
from core.domain.policy import Member
from core.domain.quota import Limits
from core.ports import Clock, JobStore

TOP = 5


@dataclass(frozen=True, slots=True)
class PersonalUsage:
    today: Spend  # the requester's jobs since midnight UTC, everywhere
    month: Spend  # … since the first of the month
    active: int  # unfinished jobs now
    limits: Limits  # what applies to them here
    day_resets: datetime
    month_resets: datetime
    #: when the cooldown lets them start the next video (None: now)
    ready_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServerUsage:
    month: Spend  # the server's jobs this month
    budget: float  # 0 = no budget
    top_users: Sequence[tuple[str, Spend]]
    by_model: Sequence[tuple[str, Spend]]
    resets: datetime


@dataclass(frozen=True, slots=True)
class UsageReport:
    personal: PersonalUsage
    #: only for admins, in a server
    server: ServerUsage | None
    currency: str


class UsageReports:
    def __init__(self, *, store: JobStore, clock: Clock, controls: Controls) -> None:
        self.store = store
        self.clock = clock
        self.controls = controls

    async def report(self, chat: ChatRef, member: Member, *, server: bool) -> UsageReport:
        """The requester's usage; with ``server`` (admins only) the server's as well."""
        if server and chat.guild is not None and not member.admin:
            raise not_admin()
        now = self.clock.now()
        policy = await self.controls.policy(chat, member)
        me = Scope.of_user(chat.platform, chat.user)
        last = (await self.store.recent_jobs(chat.platform, chat.user, 1)) or None
        ready = None
        if last and policy.limits.cooldown_seconds:
            at = last[0].created_at + timedelta(seconds=policy.limits.cooldown_seconds)
            ready = at if at > now else None
        personal = PersonalUsage(
            today=await self.store.spend(me, day_start(now)),
            month=await self.store.spend(me, month_start(now)),
            active=await self.store.count_active(chat.platform, chat.user, ACTIVE),
            limits=policy.limits,
            day_resets=next_day(now),
            month_resets=next_month(now),
            ready_at=ready,
        )
        report = None
        if server and chat.guild is not None:
            place = Scope.of_guild(chat.platform, chat.guild)
            since = month_start(now)
            report = ServerUsage(
                month=await self.store.spend(place, since),
                budget=policy.limits.monthly_budget,
                top_users=await self.store.spend_by(place, since, by="user", limit=TOP),
                by_model=await self.store.spend_by(place, since, by="model", limit=TOP),
                resets=next_month(now),
            )
        return UsageReport(personal, report, self.controls.currency)
