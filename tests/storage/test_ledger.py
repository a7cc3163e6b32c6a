"""The ledger and the settings on every backend: sums of charges agree with
``core.domain.ledger.charge_of``; the quota-checked insert refuses at each limit, atomically even
across connections; settings are compared and set."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.ledger import ChargeState, Scope, Spend, charge_of
from core.domain.quota import Limits, Quota, QuotaUsage
from core.domain.records import JobRecord
from tests.core.fakes import T0
from tests.storage.backends import Backend
from tests.storage.test_contract import record

S = JobStatus
ALICE = ChatRef("discord", "alice", "c", guild="g")
BOB = ChatRef("discord", "bob", "c", guild="g")
DM = ChatRef("discord", "alice", "dm")


def job(
    status: JobStatus = S.QUEUED,
    *,
    chat: ChatRef = ALICE,
    at: datetime = T0,
    seconds: int = 5,
    estimate: float = 1.5,
    model: str = "wan2.6-i2v-flash",
    **kw: object,
) -> JobRecord:
    spec = JobSpec(model=model, prompt="p", resolution="720P", duration=seconds)
    return record(status=status, chat=chat, spec=spec, created_at=at, cost_estimate=estimate, **kw)


#: one row of every kind the ledger tells apart
KINDS: list[JobRecord] = [
    job(S.QUEUED),  # reserved
    job(S.RUNNING, task_id="t1"),  # reserved
    job(S.SUCCEEDED, task_id="t2", video_url="u", usage_seconds=5.0, cost=1.25),  # billed
    job(S.DELIVERED, task_id="t3", video_url="u", usage_seconds=4.0, cost=1.0),  # billed
    job(S.DELIVERED, task_id="t4", video_url="u"),  # billed, no usage: the estimate
    job(S.FAILED, task_id="t5", video_url="u", usage_seconds=5.0, cost=1.25),  # made, then lost
    job(S.FAILED, task_id="t6"),  # refunded (moderation, task failure …)
    job(S.CANCELED),  # refunded
    job(S.EXPIRED, task_id="t7"),  # refunded
    job(S.DELIVERED, task_id="t8"),  # its failure notice was posted: refunded
    job(S.DELIVERY_FAILED, task_id="t9", video_url="u", usage_seconds=2.0, cost=0.5),  # billed
    job(S.QUEUED, chat=BOB, model="wan2.2-i2v-flash", estimate=1.0),  # bob, reserved
    job(S.QUEUED, chat=DM, estimate=0.75),  # alice in a DM
    job(S.DELIVERED, at=T0 - timedelta(days=40), video_url="u", cost=9.0),  # last month
]


def expected(jobs: list[JobRecord]) -> Spend:
    charges = [charge_of(j) for j in jobs]
    return Spend(
        videos=sum(c.state is not ChargeState.REFUNDED for c in charges),
        refunded=sum(c.state is ChargeState.REFUNDED for c in charges),
        seconds=sum(c.seconds for c in charges),
        money=sum(c.money for c in charges),
    )


def close(a: Spend, b: Spend) -> bool:
    return (a.videos, a.refunded) == (b.videos, b.refunded) and (
        abs(a.seconds - b.seconds) < 1e-9 and abs(a.money - b.money) < 1e-9
    )


async def test_sums_of_charges_agree_with_the_domain_rule(backend: Backend) -> None:
    since = T0 - timedelta(days=1)
    recent = [j for j in KINDS if j.created_at >= since]
    states = {charge_of(j).state for j in KINDS}
    assert states == set(ChargeState)  # every kind is there
    async with backend.open() as store:
        for j in KINDS:
            await store.insert_job(j)
        alice = await store.spend(Scope.of_user("discord", "alice"), since)
        assert close(alice, expected([j for j in recent if j.chat.user == "alice"]))
        guild = await store.spend(Scope.of_guild("discord", "g"), since)
        assert close(guild, expected([j for j in recent if j.chat.guild == "g"]))
        dms = await store.spend(Scope.of_guild("discord", None), since)
        assert close(dms, expected([j for j in recent if j.chat.guild is None]))
        assert await store.spend(Scope.of_user("slack", "alice"), since) == Spend()
        by_user = dict(
            await store.spend_by(Scope.of_guild("discord", "g"), since, by="user", limit=5)
        )
        assert set(by_user) == {"alice", "bob"}
        assert close(by_user["bob"], expected([j for j in recent if j.chat.user == "bob"]))
        by_model = await store.spend_by(Scope.of_guild("discord", "g"), since, by="model", limit=1)
        assert [m for m, _ in by_model] == ["wan2.6-i2v-flash"]  # the biggest spender first


async def test_quota_usage_counts_what_the_insert_counts(backend: Backend) -> None:
    quota = Quota("discord", "alice", "g", T0 + timedelta(hours=1), "CNY", Limits())
    async with backend.open() as store:
        assert await store.quota_usage(quota) == QuotaUsage()
        for j in KINDS:
            await store.insert_job(j)
        usage = await store.quota_usage(quota)
    today = [j for j in KINDS if j.created_at >= quota.day_start]
    mine = [j for j in today if j.chat.user == "alice"]
    guild = [j for j in KINDS if j.chat.guild == "g" and j.created_at >= quota.month_start]
    assert usage.active == 4  # queued, running, succeeded, and her DM (all hers)
    assert abs(usage.day_seconds - expected(mine).seconds) < 1e-9
    assert abs(usage.month_money - expected(guild).money) < 1e-9
    assert usage.last_request == T0


def within(chat: ChatRef, now: datetime, **limits: float) -> Quota:
    return Quota.of(chat, Limits(**limits), now, "CNY")  # type: ignore[arg-type]  # test helper: the four limits by name


async def test_each_limit_refuses_at_its_edge_and_refunds_free_the_room(backend: Backend) -> None:
    now = T0
    async with backend.open() as store:
        # daily seconds: 10 s; a refunded 5 s job does not count
        await store.insert_job(job(S.CANCELED, at=now))
        daily = within(ALICE, now, daily_seconds=10)
        assert await store.insert_job_within(job(at=now), daily) is not None
        assert await store.insert_job_within(job(at=now), daily) is not None
        assert await store.insert_job_within(job(at=now, seconds=1), daily) is None
        # … until the next UTC day
        tomorrow = now + timedelta(days=1)
        assert await store.insert_job_within(
            job(at=tomorrow), within(ALICE, tomorrow, daily_seconds=10)
        )

        # the server's monthly budget: bob's and alice's jobs together
        budget = within(BOB, now, monthly_budget=7.0)  # 1.5 + 1.5 + 1.5 (alice) held so far
        assert await store.insert_job_within(job(chat=BOB, estimate=2.5), budget) is not None
        assert await store.insert_job_within(job(chat=BOB, estimate=0.01), budget) is None
        # another server's budget is its own
        other = dataclasses.replace(BOB, guild="g2")
        assert await store.insert_job_within(
            job(chat=other), within(other, now, monthly_budget=2.0)
        )

        # cooldown: one request per 60 s
        carol = ChatRef("discord", "carol", "c", guild="g")
        assert await store.insert_job_within(
            job(chat=carol), within(carol, now, cooldown_seconds=60)
        )
        soon = now + timedelta(seconds=59)
        assert (
            await store.insert_job_within(
                job(chat=carol, at=soon), within(carol, soon, cooldown_seconds=60)
            )
            is None
        )
        later = now + timedelta(seconds=61)
        assert await store.insert_job_within(
            job(chat=carol, at=later), within(carol, later, cooldown_seconds=60)
        )


async def test_racing_requests_cannot_both_take_the_last_seconds_or_yuan(backend: Backend) -> None:
    """Ten requests at once from two connections (two processes): exactly as many pass as fit."""
    async with backend.open() as a, backend.open() as b:
        seconds = within(ALICE, T0, daily_seconds=12)  # room for two 5 s videos
        results = await asyncio.gather(
            *(s.insert_job_within(job(at=T0), seconds) for s in (a, b) * 5)
        )
        assert sum(r is not None for r in results) == 2
        money = within(BOB, T0, monthly_budget=5.5)  # alice holds 3.0: one more 1.5 fits
        results = await asyncio.gather(
            *(s.insert_job_within(job(chat=BOB, at=T0), money) for s in (a, b) * 5)
        )
        assert sum(r is not None for r in results) == 1
        assert (await a.quota_usage(money)).month_money == 4.5


async def test_settings_are_compared_and_set(backend: Backend) -> None:
    async with backend.open() as store:
        put = store.put_setting
        key = ("discord", "g", "", "channels")
        assert await put(*key, ["1", "2"], expected=None, by="admin", now=T0)
        assert not await put(*key, ["3"], expected=None, by="admin", now=T0)  # set meanwhile
        assert not await put(*key, ["3"], expected=["1"], by="admin", now=T0)  # stale
        assert await put(*key, ["1", "2", "3"], expected=["1", "2"], by="admin", now=T0)
        assert await put("discord", "g", "42", "daily_seconds", 30, expected=None, by="a", now=T0)
        assert await put("discord", "g", "", "sound", False, expected=None, by="a", now=T0)
        assert await put("discord", "g", "", "monthly_budget", 12.5, expected=None, by="a", now=T0)
        assert await put("discord", "g2", "", "sound", True, expected=None, by="a", now=T0)
        rows = await store.load_settings("discord", "g")
        got = {(r.scope, r.name): r.value for r in rows}
        assert got == {
            ("", "channels"): ["1", "2", "3"],
            ("", "monthly_budget"): 12.5,
            ("", "sound"): False,
            ("42", "daily_seconds"): 30,
        }
        assert [r.updated_by for r in rows if r.name == "channels"] == ["admin"]
        assert await put(*key, None, expected=["1", "2", "3"], by="admin", now=T0)  # unset
        assert not await put(*key, None, expected=["1", "2", "3"], by="admin", now=T0)
        assert len(await store.load_settings("discord", "g")) == 3
        assert await store.load_settings("slack", "g") == []
