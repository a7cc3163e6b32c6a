"""Process roles on PostgreSQL: ``animate-bot worker`` (the engine alone, posting through
Discord's REST API without a gateway), ``ENGINE=off`` (a front-end alone), Discord shards,
and no instance lock where processes share the database. Real discord.py against the fake."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import pytest

from bot import health
from bot.bot import ShardedAnimateBot, make_bot
from bot.builder import build
from bot.instance_lock import InstanceLocked
from bot.platforms import configured, open_ports
from bot.runner import _one_process_per_sqlite, http_routes, main_worker, run, run_worker
from bot.settings import Settings, from_env
from core.domain.catalog import Region
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from tests.e2e.harness import API_KEY, World, png, results_in
from tests.fakeslack import FakeSlack

SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="the cat waves", resolution="720P", duration=2)


def env_of(world: World, tmp_path: Path, pg_url: str, **more: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": world.fake.token,
        "DASHSCOPE_API_KEY": API_KEY,
        "DASHSCOPE_BASE_URL": world.emu.base_url,
        "DATABASE_PATH": str(tmp_path / "state" / "animate.db"),
        "MEDIA_DIR": str(tmp_path / "media"),  # shared by every process, as in compose
        "DATABASE_URL": pg_url,
        **more,
    }


@contextmanager
def logged(logger: str, starts: str) -> Iterator[asyncio.Event]:
    """An event set when ``logger`` logs a message starting with ``starts``."""
    seen = asyncio.Event()

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith(starts):
                seen.set()

    handler, log = Handler(), logging.getLogger(logger)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


@pytest.fixture
async def settings(world: World, tmp_path: Path, pg_url: str) -> AsyncIterator[Settings]:
    yield from_env(env_of(world, tmp_path, pg_url))


async def test_a_worker_posts_through_rest_and_never_connects_the_gateway(
    world: World, settings: Settings
) -> None:
    chat = ChatRef("discord", str(world.alice.id), str(world.text.id), guild=str(world.guild.id))
    async with (
        build(settings, clock=world.clock, session=world.session) as front,
        build(settings, clock=world.clock, session=world.session) as engine,
        AsyncExitStack() as ports,
    ):
        view = await front.service.submit(spec=SPEC, image=png(), chat=chat)
        assert await open_ports(settings, engine.router, ports) == ["discord"]
        await engine.worker.recover()
        for _ in range(60):
            await engine.worker.tick(world.clock.now())
            if (await front.service.get_view(view.id)).status is JobStatus.DELIVERED:
                break
            world.clock.advance(5.0)
        assert (await front.service.get_view(view.id)).status is JobStatus.DELIVERED
    (posted,) = results_in(world.fake, world.text)
    assert posted.attachments and f"animate job #{view.id}" in posted.embeds[0]["footer"]["text"]
    assert world.fake.gateway.identifies == []  # REST only: no gateway session was opened


async def test_the_worker_role_runs_until_sigterm(world: World, settings: Settings) -> None:
    with logged("core.engine.worker", "worker running") as running:
        served = asyncio.create_task(run_worker(settings))
        await asyncio.wait_for(running.wait(), 15)
    assert health.is_fresh(settings.database_path, 60.0)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(served, 10)
    assert served.exception() is None
    assert world.fake.gateway.identifies == []


def test_a_worker_without_any_platform_exits_2_saying_why(
    world: World,
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in env_of(world, tmp_path, pg_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DISCORD_TOKEN")
    assert main_worker([]) == 2
    err = capsys.readouterr().err
    assert "no platform is configured" in err and err.count("\n") == 1


async def test_engine_off_serves_the_front_end_alone(
    world: World, tmp_path: Path, pg_url: str
) -> None:
    settings = from_env(env_of(world, tmp_path, pg_url, ENGINE="off"))
    with logged("bot.runner", "ENGINE=off") as front_only:
        served = asyncio.create_task(run(settings))
        await asyncio.wait_for(front_only.wait(), 15)
        await asyncio.wait_for(world.fake.gateway.ready.wait(), 15)
    assert world.fake.gateway.identifies  # the front-end is connected
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(served, 10)
    assert served.exception() is None
    assert not health.heartbeat_path(settings.database_path).exists()  # no engine, no beat


@pytest.mark.parametrize(("shard_ids", "syncs"), [((1,), False), ((0,), True)])
async def test_a_shard_process_identifies_its_shards_and_only_shard_0_syncs(
    world: World, settings: Settings, shard_ids: tuple[int, ...], syncs: bool
) -> None:
    async with build(settings, clock=world.clock, session=world.session) as rt:
        bot = make_bot(
            service=rt.service,
            router=rt.router,
            region=Region.BEIJING,
            state_dir=settings.state_dir,
            guild_ready_timeout=0.1,
            shard_count=2,
            shard_ids=shard_ids,
        )
        assert isinstance(bot, ShardedAnimateBot)
        task = asyncio.create_task(bot.start(world.fake.token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 15)
            (identify,) = world.fake.gateway.identifies
            assert identify["shard"] == [shard_ids[0], 2]
            assert bool(world.fake.synced) is syncs
            # the process still serves its commands and delivers through the router
            assert rt.router.port("discord") is bot.port
        finally:
            await bot.close()
            await task


def test_only_sqlite_holds_the_data_directory(tmp_path: Path, pg_url: str) -> None:
    shared = Settings(
        dashscope=from_env({"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k"}).dashscope,
        database_path=tmp_path / "animate.db",
        database_url=pg_url,
    )
    with _one_process_per_sqlite(shared), _one_process_per_sqlite(shared):
        pass  # any number of processes share PostgreSQL
    alone = Settings(dashscope=shared.dashscope, database_path=tmp_path / "animate.db")
    with (
        _one_process_per_sqlite(alone),
        pytest.raises(InstanceLocked, match="another animate-bot"),
        _one_process_per_sqlite(alone),
    ):
        pass


async def test_a_worker_opens_the_slack_port_beside_discord_without_socket_mode(
    world: World, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)  # slack_sdk hands these to aiohttp itself
    async with FakeSlack() as slack:
        env = env_of(
            world,
            tmp_path,
            pg_url,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
        )
        settings = from_env(env)
        async with (
            build(settings, clock=world.clock, session=world.session) as rt,
            AsyncExitStack() as ports,
        ):
            assert configured(settings) == ["discord", "slack"]
            assert await open_ports(settings, rt.router, ports) == ["discord", "slack"]
            assert rt.router.port("slack") is not None
        assert rt.router.port("slack") is None  # closed and unregistered with the stack
        assert slack.socket.connections == []


async def test_events_go_to_a_process_with_an_engine_only(
    world: World, tmp_path: Path, pg_url: str
) -> None:
    token = "0123456789abcdef0123"
    both = {"HTTP_PORT": "8080", "EVENTS_TOKEN": token}
    with_engine = from_env(env_of(world, tmp_path, pg_url, **both))
    front_only = from_env(env_of(world, tmp_path, pg_url, ENGINE="off", **both))
    async with build(with_engine, clock=world.clock, session=world.session) as rt:
        assert len(http_routes(with_engine, rt)) == 1
        with logged("bot.runner", "ENGINE=off: EVENTS_TOKEN ignored") as warned:
            assert http_routes(front_only, rt) == []
        assert warned.is_set()
