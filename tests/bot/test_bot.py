"""The bot shell: intents, mentions default, command sync only on change, error boundary."""

from __future__ import annotations

import json

import pytest

from core.domain.jobs import JobView
from tests.e2e.harness import World


async def test_minimal_intents_and_no_mentions_by_default(world: World) -> None:
    await world.start_bot()
    identify = world.fake.gateway.identifies[0]
    assert identify["intents"] == 1, "GUILDS only"
    assert world.bot.allowed_mentions is not None
    assert dict(world.bot.allowed_mentions.to_dict()) == {"parse": []}


async def test_commands_sync_only_when_their_signatures_change(world: World) -> None:
    await world.start_bot()
    names = {c["name"] for c in world.fake.synced["global"]}
    assert {"animate", "animate-effect", "animate-jobs", "Animate this image"} <= names
    await world.stop_bot()
    await world.start_bot()
    assert len(world.fake.requests("PUT", "/commands")) == 1, "unchanged: no second sync"
    await world.stop_bot()

    state = world.db.parent / "commands.sync.json"
    state.write_text(json.dumps({"global": "stale"}))  # as after an upgrade changed a command
    await world.start_bot()
    assert len(world.fake.requests("PUT", "/commands")) == 2


async def test_dev_guild_sync_is_guild_scoped(world: World) -> None:
    await world.start_bot(dev_guild_id=world.guild.id)
    assert world.fake.requests("PUT", rf"/guilds/{world.guild.id}/commands")
    assert str(world.guild.id) in world.fake.synced


async def test_unexpected_errors_get_a_reference_not_a_traceback(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.start_bot()

    async def explode(*, platform: str, user: str, limit: int = 10) -> list[JobView]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(world.service, "recent", explode)  # a bug deep in the service
    inter = await world.run_slash("animate-jobs")
    await world.fake.wait_for(lambda: inter.followups)
    reply = world.fake.find_message(inter.followups[-1])
    assert reply is not None and reply.flags & 64
    assert reply.content.startswith("Something went wrong (ref: ")
    assert "secret" not in reply.content
