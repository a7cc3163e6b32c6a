"""Quotas through the facade (issue 10): each limit refuses before anything is recorded or sent,
says the usage and when it resets, and resets; refunds free the room; racing requests cannot
both take the last place; per-role overrides; sources of each value."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.app.controls import set_to
from core.domain.errors import AnimateError
from core.domain.guild_settings import Source
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.ledger import Money
from core.domain.policy import Member
from core.domain.pricing import PriceOverrides
from core.domain.quota import Limits
from storage.sqlite import SqliteJobStore
from tests.core.fakes import FakeClock, FakeVideoProvider, png
from tests.core.rig import CHAT, SPEC, Rig, open_rig

ADMIN = Member(admin=True)
BOB = dataclasses.replace(CHAT, user="u2")
#: wan2.6-i2v-flash, 1080P, 5 s with sound: 0.50 CNY/s in Beijing
FIVE_SECONDS = 2.5


async def make(
    tmp_path: Path,
    store: SqliteJobStore,
    clock: FakeClock,
    provider: FakeVideoProvider,
    **limits: float,
) -> Rig:
    return await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        limits=Limits(**limits),  # type: ignore[arg-type]  # the four limits by name
    )


async def refused(rig: Rig, chat: ChatRef = CHAT, member: Member | None = None) -> AnimateError:
    with pytest.raises(AnimateError) as caught:
        await rig.submit(spec=SPEC, image=png(), chat=chat, member=member)
    return caught.value


async def count(store: SqliteJobStore) -> int:
    return len(await store.jobs_with_status(list(JobStatus)))


async def test_daily_seconds_refuse_with_the_usage_and_reset_at_midnight(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, daily_seconds=10)
    for _ in range(2):
        await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    error = await refused(rig)
    assert error.key == "limit.daily_seconds"
    assert error.params == {
        "used": 10,
        "limit": 10,
        "need": 5,
        "resets": datetime(2026, 1, 2, tzinfo=UTC),
    }
    assert await count(store) == 2 and provider.calls == []  # nothing recorded, nothing sent
    await rig.submit(spec=SPEC, image=png(), chat=BOB)  # another user is unaffected
    clock.at = datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC)  # a new UTC day
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    await rig.aclose()


async def test_a_refunded_job_gives_its_seconds_back(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, daily_seconds=5)
    first = await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    assert (await refused(rig)).key == "limit.daily_seconds"
    await rig.cancel(first.id, user=CHAT.user, moderator=False)
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)  # the canceled one costs nothing
    await rig.aclose()


async def test_the_monthly_budget_counts_the_whole_server_and_resets_next_month(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, monthly_budget=2 * FIVE_SECONDS)
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    await rig.submit(spec=SPEC, image=png(), chat=BOB)
    error = await refused(rig, dataclasses.replace(CHAT, user="u3"))
    assert error.key == "limit.monthly_budget"
    assert error.params == {
        "used": Money(5.0, "CNY"),
        "budget": Money(5.0, "CNY"),
        "need": Money(FIVE_SECONDS, "CNY"),
        "resets": datetime(2026, 2, 1, tzinfo=UTC),
    }
    await rig.submit(spec=SPEC, image=png(), chat=dataclasses.replace(CHAT, guild="g2"))
    await rig.submit(spec=SPEC, image=png(), chat=dataclasses.replace(CHAT, guild=None))  # DMs
    clock.at = datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC)
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    assert provider.calls == []
    await rig.aclose()


async def test_the_cooldown_says_when_the_next_request_is_possible(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, cooldown_seconds=60)
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    clock.advance(30)
    error = await refused(rig)
    assert error.key == "limit.cooldown"
    assert error.params["resets"] == clock.now() + timedelta(seconds=30)
    await rig.submit(spec=SPEC, image=png(), chat=BOB)
    clock.advance(31)
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    await rig.aclose()


async def test_racing_requests_cannot_both_take_the_last_seconds(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, daily_seconds=12)
    results = await asyncio.gather(
        *(rig.submit(spec=SPEC, image=png(), chat=CHAT) for _ in range(6)),
        return_exceptions=True,
    )
    keys = sorted(r.key for r in results if isinstance(r, AnimateError))
    assert keys == ["limit.daily_seconds"] * 4 and await count(store) == 2
    await rig.aclose()


async def test_the_most_generous_role_override_applies(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, daily_seconds=5)
    await rig.configure(CHAT, ADMIN, "daily_seconds", set_to(10), role="fans")
    await rig.configure(CHAT, ADMIN, "daily_seconds", set_to(15), role="vips")
    await rig.configure(CHAT, ADMIN, "active_jobs", set_to(0), role="vips")
    both = Member(roles=frozenset({"fans", "vips"}))
    for user, member, allowed in (
        ("plain", Member(), 1),
        ("fan", Member(roles=frozenset({"fans"})), 2),
        ("both", both, 3),
    ):
        chat = dataclasses.replace(CHAT, user=user)
        for _ in range(allowed):
            await rig.submit(spec=SPEC, image=png(), chat=chat, member=member)
        assert (await refused(rig, chat, member)).params["limit"] == allowed * 5
    usage = await rig.usage(dataclasses.replace(CHAT, user="both"), both)
    assert usage.personal.limits == Limits(daily_seconds=15)
    await rig.aclose()


async def test_each_value_says_where_it_comes_from(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, daily_seconds=20)
    report = await rig.settings(CHAT, ADMIN)
    assert report.values["daily_seconds"].source is Source.OPERATOR
    assert report.values["daily_seconds"].value == 20
    assert report.values["cooldown_seconds"].source is Source.DEFAULT
    report = await rig.configure(CHAT, ADMIN, "daily_seconds", set_to(5))
    assert (report.values["daily_seconds"].value, report.values["daily_seconds"].source) == (
        5,
        Source.SERVER,
    )
    for _ in range(1):
        await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    assert (await refused(rig)).params["limit"] == 5  # the server's value applies
    report = await rig.configure(CHAT, ADMIN, "daily_seconds", set_to(None))
    assert report.values["daily_seconds"].source is Source.OPERATOR
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)
    await rig.aclose()


#: Wan 3.0: no published price (reference §5.5)
WAN30 = JobSpec(model="wan3.0-video", prompt="a cat surfing", resolution="720P", duration=4)


async def test_a_budget_refuses_a_model_whose_price_is_unknown_before_anything(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, monthly_budget=100.0)
    with pytest.raises(AnimateError) as checked:
        await rig.check(WAN30, chat=CHAT)
    assert (checked.value.key, checked.value.params) == (
        "limit.price_unknown",
        {"model": "wan3.0-video"},
    )
    with pytest.raises(AnimateError) as submitted:
        await rig.submit(spec=WAN30, image=png(), chat=CHAT)
    assert submitted.value.key == "limit.price_unknown"
    assert await count(store) == 0 and provider.calls == []  # nothing recorded, nothing sent
    await rig.submit(spec=SPEC, image=png(), chat=CHAT)  # a model with a price still passes
    await rig.aclose()


async def test_an_unknown_price_without_a_budget_is_accepted_and_reserves_nothing(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await make(tmp_path, store, clock, provider, daily_seconds=60)
    view = await rig.submit(spec=WAN30, image=png(), chat=CHAT)
    assert (view.price_known, view.unit_price, view.cost_estimate) == (False, None, 0.0)
    await rig.aclose()


async def test_an_operator_price_lets_the_budget_count_the_model_at_that_price(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    rig = await open_rig(
        tmp_path,
        provider=provider,
        store=store,
        clock=clock,
        limits=Limits(monthly_budget=4.0),
        price_overrides=PriceOverrides.parse({"wan3.0-video": {"720P": 0.5}}),
    )
    first = await rig.submit(spec=WAN30, image=png(), chat=CHAT)  # 4 s × 0.5 = 2.0
    assert (first.unit_price, first.cost_estimate) == (0.5, pytest.approx(2.0))
    await rig.submit(spec=WAN30, image=png(), chat=BOB)
    error = await refused_spec(rig, WAN30)
    assert error.key == "limit.monthly_budget"
    assert (error.params["used"], error.params["need"]) == (Money(4.0, "CNY"), Money(2.0, "CNY"))
    assert await count(store) == 2 and provider.calls == []
    await rig.aclose()


async def refused_spec(rig: Rig, spec: JobSpec) -> AnimateError:
    with pytest.raises(AnimateError) as caught:
        await rig.submit(spec=spec, image=png(), chat=dataclasses.replace(CHAT, user="u3"))
    return caught.value
