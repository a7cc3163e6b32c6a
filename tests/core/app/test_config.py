"""Server settings through the facade (issue 10): admins only, in a server only, values checked,
concurrent edits all kept, per-role only for the user limits, settings survive a restart."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import cast

import pytest

from core.app.controls import add_item, remove_item, set_to
from core.domain.errors import AnimateError
from core.domain.guild_settings import Source, StoredSetting
from core.domain.policy import Member
from core.ports import JobStore
from storage.sqlite import SqliteJobStore
from tests.core.fakes import FakeClock, FakeVideoProvider
from tests.core.rig import CHAT, Rig, open_rig

ADMIN = Member(admin=True)


async def key_of(call: object) -> str:
    with pytest.raises(AnimateError) as caught:
        await call  # type: ignore[misc]  # an awaitable facade call
    return caught.value.key


async def test_only_admins_and_only_in_a_server(service: Rig) -> None:
    member = Member(roles=frozenset({"1"}))
    assert await key_of(service.configure(CHAT, member, "daily_seconds", set_to(5))) == (
        "config.not_admin"
    )
    assert await key_of(service.settings(CHAT, member)) == "config.not_admin"
    assert await key_of(service.usage(CHAT, member, server=True)) == "config.not_admin"
    dm = dataclasses.replace(CHAT, guild=None)
    assert await key_of(service.configure(dm, ADMIN, "daily_seconds", set_to(5))) == (
        "config.not_in_server"
    )
    assert (await service.settings(CHAT, ADMIN)).values["daily_seconds"].source is Source.DEFAULT


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("daily_seconds", -1),
        ("daily_seconds", 2.5),
        ("monthly_budget", float("nan")),
        ("max_resolution", "4K"),
        ("default_model", "no-such-model"),
        ("sound", "yes"),
        ("channels", ["#general"]),
    ],
)
async def test_values_that_do_not_fit_are_refused(service: Rig, name: str, value: object) -> None:
    with pytest.raises(AnimateError) as caught:
        await service.configure(CHAT, ADMIN, name, set_to(value))
    assert caught.value.key == "config.invalid" and caught.value.params == {"name": name}
    assert (await service.settings(CHAT, ADMIN)).values[name].source is Source.DEFAULT


async def test_only_user_limits_can_be_set_per_role(service: Rig) -> None:
    error = await key_of(service.configure(CHAT, ADMIN, "monthly_budget", set_to(5), role="1"))
    assert error == "config.not_per_role"
    report = await service.configure(CHAT, ADMIN, "cooldown_seconds", set_to(30), role="1")
    assert report.roles == {"1": {"cooldown_seconds": 30}}


class Together:
    """The store, with the first ``n`` settings reads held until all ``n`` have read: their
    edits then all start from the same value, as when admins click at the same moment."""

    def __init__(self, store: SqliteJobStore, n: int) -> None:
        self._store, self._n, self._waiting = store, n, 0
        self._all_read = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def load_settings(self, platform: str, guild: str) -> list[StoredSetting]:
        rows = await self._store.load_settings(platform, guild)
        if not self._all_read.is_set():
            self._waiting += 1
            if self._waiting == self._n:
                self._all_read.set()
            await asyncio.wait_for(self._all_read.wait(), 10)
        return rows


async def test_concurrent_edits_of_one_list_are_all_kept(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    together = cast(JobStore, Together(store, 5))
    rig = await open_rig(tmp_path, provider=provider, store=together, clock=clock)
    await asyncio.gather(
        *(rig.configure(CHAT, ADMIN, "channels", add_item(str(i))) for i in range(1, 6))
    )
    report = await rig.settings(CHAT, ADMIN)
    kept = cast(tuple[str, ...], report.values["channels"].value)
    assert sorted(kept) == ["1", "2", "3", "4", "5"]  # in whatever order they landed
    for i in range(1, 6):
        report = await rig.configure(CHAT, ADMIN, "channels", remove_item(str(i)))
    # the last one removed: no list at all, i.e. every channel
    assert report.values["channels"].source is Source.DEFAULT
    await rig.aclose()


async def test_settings_live_in_the_database(
    tmp_path: Path, store: SqliteJobStore, clock: FakeClock, provider: FakeVideoProvider
) -> None:
    first = await open_rig(tmp_path, provider=provider, store=store, clock=clock)
    await first.configure(CHAT, ADMIN, "blocked_words", add_item("Ninja"))
    await first.aclose()
    again = await open_rig(tmp_path, provider=provider, store=store, clock=clock)
    report = await again.settings(CHAT, ADMIN)
    assert report.values["blocked_words"].value == ("ninja",)
    other = await again.settings(dataclasses.replace(CHAT, guild="g2"), ADMIN)
    assert other.values["blocked_words"].value == ()
    await again.aclose()
