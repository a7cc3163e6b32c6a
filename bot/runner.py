"""The composition root: settings → the runtime (``bot.builder``) → the process's roles.

``animate-bot run`` / ``python -m bot`` land in :func:`main`: the chat front-ends (the Discord
client, the Slack app, or both), the worker and the HTTP server side by side over one engine
(``ENGINE=off``: the front-ends alone, whose jobs workers elsewhere run). ``animate-bot worker``
lands in :func:`main_worker`: the engine alone, no gateway, posting through the platforms' REST
APIs (``bot.platforms``). With SQLite one process serves the data directory (its instance lock);
with PostgreSQL (``DATABASE_URL``) any number of each role share the jobs. The process needs
nothing but its environment variables (or a ``.env`` file in the working directory).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from typing import Any

import discord
import yarl
from dotenv import find_dotenv, load_dotenv

from bot import health, instance_lock
from bot.bot import AnimateBot, make_bot
from bot.builder import Runtime, build, slack_frontend
from bot.log import configure_logging
from bot.metrics import BotMetrics
from bot.platforms import configured, open_ports
from bot.probes import Pulse, probe_routes
from bot.settings import Settings, from_env
from bot.stopping import finish_in_flight
from bot.web import Route, WebServer, serve
from bot.webhooks import events_route
from core.domain.errors import ConfigError
from core.domain.tasks import TaskEvent
from slackapp.frontend import SlackStartError

log = logging.getLogger(__name__)
EXIT_CONFIG = 2


def use_dev_endpoints(env: Mapping[str, str]) -> None:
    """For development only: talk to a local Discord stand-in instead of discord.com.

    ``DISCORD_API_BASE`` (e.g. ``http://127.0.0.1:8080/api/v10``) and ``DISCORD_GATEWAY_URL``
    (e.g. ``ws://127.0.0.1:8080/gateway``). Unset in production.
    """
    if api := env.get("DISCORD_API_BASE"):
        discord.http.Route.BASE = api.rstrip("/")
    if gateway := env.get("DISCORD_GATEWAY_URL"):
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


@contextlib.contextmanager
def _one_process_per_sqlite(settings: Settings) -> Iterator[None]:
    """SQLite serves one process: a second one would "recover" this one's in-flight jobs.
    Taken before anything is opened. PostgreSQL allows any number (leases keep them apart)."""
    if settings.database_url is not None:
        yield
        return
    with instance_lock.exclusive(settings.state_dir):
        yield


def _heartbeat(settings: Settings, pulse: Pulse) -> Callable[[], None]:
    def beat() -> None:
        pulse.beat()
        health.touch(settings.database_path)

    return beat


def _metrics(settings: Settings) -> BotMetrics | None:
    # the numbers are served on the HTTP server only: without it, nothing is counted
    return BotMetrics(settings.dashscope.region) if settings.http_port is not None else None


def http_routes(
    settings: Settings,
    rt: Runtime,
    pulse: Pulse | None = None,
    metrics: BotMetrics | None = None,
    *,
    engine: bool | None = None,
) -> list[Route]:
    """What the bot's HTTP server answers (more routes plug in here). ``engine``: whether this
    process runs one (default: ``settings.engine``; a worker process always does)."""
    engine = settings.engine if engine is None else engine
    routes: list[Route] = []
    if pulse is not None:
        routes += probe_routes(pulse, rt.store, rt.router)
    if metrics is not None:
        routes.append(metrics.route(rt.store, rt.clock.now, rt.context.slots_of))
    if settings.events_token is not None:
        if engine:
            offer: Callable[[TaskEvent], bool] = rt.engine.pushes.offer
            if metrics is not None:
                offer = metrics.push(offer)
            routes.append(events_route(settings.events_token, offer, rt.worker.wake))
        else:
            # events go to the engine in memory: a front-end alone has none to hand them to
            log.warning("ENGINE=off: EVENTS_TOKEN ignored; point EventBridge at a worker")
    return routes


@contextlib.asynccontextmanager
async def http_server(
    settings: Settings,
    rt: Runtime,
    pulse: Pulse | None = None,
    metrics: BotMetrics | None = None,
    *,
    engine: bool | None = None,
) -> AsyncIterator[WebServer | None]:
    """The HTTP server while the block runs, when ``HTTP_PORT`` is set."""
    if settings.http_port is None:
        yield None
        return
    routes = http_routes(settings, rt, pulse, metrics, engine=engine)
    async with serve(settings.http_host, settings.http_port, routes) as web:
        yield web


@contextlib.contextmanager
def _on_sigterm(handler: Callable[[], None]) -> Iterator[None]:
    """``handler`` answers SIGTERM while the block runs."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, handler)
    try:
        yield
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)


async def run(settings: Settings, *, force_sync: bool = False) -> None:
    """Run the bot until closed or SIGTERM; ``InstanceLocked`` if another process runs it."""
    with _one_process_per_sqlite(settings):
        await _serve(settings, force_sync=force_sync)


async def _serve(settings: Settings, *, force_sync: bool) -> None:
    """Build the runtime, then run the front-ends, the worker (unless ``ENGINE=off``) and the
    HTTP server side by side until SIGTERM (or, with Discord, until its client closes)."""
    # a front-end alone has no passes whose lateness /healthz could report
    pulse = Pulse(settings.health_max_age, engine=settings.engine)
    beat = _heartbeat(settings, pulse) if settings.engine else None
    metrics = _metrics(settings)
    async with (
        build(settings, heartbeat=beat, metrics=metrics) as rt,
        http_server(settings, rt, pulse, metrics),
        contextlib.AsyncExitStack() as fronts,
    ):
        if settings.slack is not None:
            await fronts.enter_async_context(slack_frontend(rt, settings.slack))
        bot: AnimateBot | None = None
        if settings.discord_token is not None:
            bot = make_bot(
                service=rt.service,
                router=rt.router,
                region=settings.dashscope.region,
                state_dir=settings.state_dir,
                dev_guild_id=settings.dev_guild_id,
                force_sync=force_sync,
                shard_count=settings.shard_count,
                shard_ids=settings.shard_ids,
            )
            await fronts.enter_async_context(bot)
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        closing: set[asyncio.Task[None]] = set()
        worker: asyncio.Task[None] | None = None
        if settings.engine:
            worker = asyncio.create_task(rt.worker.run(), name="worker")
        else:
            log.info("ENGINE=off: front-end only; worker processes run the jobs")
        grace = settings.stop_grace_seconds

        async def stop() -> None:
            # no new work; the pass in flight (its writes, its posts) and the background
            # downloads finish within the grace; only then do the front-ends disconnect
            if worker is not None:
                done = await finish_in_flight(rt.worker, worker, rt.engine.drain, grace)
                log.info("stop: work in flight %s", "finished" if done else "cut short")
            stopping.set()
            if bot is not None:
                await bot.close()

        def on_sigterm() -> None:
            if closing or stopping.is_set():
                return
            log.info("SIGTERM: closing (work in flight gets up to %g s)", grace)
            closing.add(loop.create_task(stop()))

        try:
            with _on_sigterm(on_sigterm):
                if bot is not None and settings.discord_token is not None:
                    await bot.start(settings.discord_token)
                else:
                    await stopping.wait()
                for task in list(closing):
                    await task
        finally:
            # the worker finishes its tick; the builder then cancels background downloads
            # before the session and database close under them (they resume next start)
            rt.worker.stop()
            if worker is not None and not worker.cancelled():
                await worker


async def run_worker(settings: Settings) -> None:
    """Run the engine alone until SIGTERM: no gateway, results posted through the REST APIs of
    every platform whose token is set (and the HTTP server, for pushed completions, when
    ``HTTP_PORT`` is set). ``InstanceLocked`` (SQLite) as ``run``."""
    if not configured(settings):
        raise ConfigError(
            "a worker posts results, and no platform is configured: set DISCORD_TOKEN "
            "and/or SLACK_BOT_TOKEN + SLACK_APP_TOKEN."
        )
    pulse = Pulse(settings.health_max_age)
    metrics = _metrics(settings)
    with _one_process_per_sqlite(settings):
        async with (
            build(settings, heartbeat=_heartbeat(settings, pulse), metrics=metrics) as rt,
            contextlib.AsyncExitStack() as ports,
            http_server(settings, rt, pulse, metrics, engine=True),
        ):
            await open_ports(settings, rt.router, ports)
            loop = asyncio.get_running_loop()
            worker = asyncio.create_task(rt.worker.run(), name="worker")
            closing: set[asyncio.Task[bool]] = set()
            grace = settings.stop_grace_seconds

            def on_sigterm() -> None:
                # as `run`: the pass in flight and the background work finish within the
                # grace, then the REST sessions close
                if not closing:
                    log.info("SIGTERM: closing (work in flight gets up to %g s)", grace)
                    stop = finish_in_flight(rt.worker, worker, rt.engine.drain, grace)
                    closing.add(loop.create_task(stop))

            try:
                with _on_sigterm(on_sigterm):
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.shield(worker)
                    for task in list(closing):
                        await task
            finally:
                rt.worker.stop()
                if not worker.done():
                    await worker


def _settings_or_exit(*, need_frontend: bool) -> Settings | int:
    load_dotenv(find_dotenv(usecwd=True))  # the working directory's .env, as documented
    try:
        settings = from_env(need_frontend=need_frontend)
    except ConfigError as exc:
        sys.stderr.write(f"animate-bot: {exc.message}\n")
        return EXIT_CONFIG
    configure_logging(settings.log_level, secrets=settings.secrets, log_format=settings.log_format)
    use_dev_endpoints(os.environ)
    return settings


def _run_until_done(main: Callable[[], Coroutine[Any, Any, None]]) -> int:
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except instance_lock.InstanceLocked as exc:
        sys.stderr.write(f"animate-bot: {exc.message}\n")
        return EXIT_CONFIG
    except discord.LoginFailure:
        sys.stderr.write("animate-bot: Discord refused DISCORD_TOKEN (login failed).\n")
        return EXIT_CONFIG
    except SlackStartError as exc:
        sys.stderr.write(f"animate-bot: {exc}\n")
        return EXIT_CONFIG
    except ConfigError as exc:
        sys.stderr.write(f"animate-bot: {exc.message}\n")
        return EXIT_CONFIG
    return 0


def main_worker(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="animate-bot worker",
        description="Run the job engine alone (no gateway); results go out through REST.",
    )
    parser.parse_args(argv)
    settings = _settings_or_exit(need_frontend=False)
    if isinstance(settings, int):
        return settings
    return _run_until_done(lambda: run_worker(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="animate-bot run", description="Run the chat bot (Discord, Slack, or both)."
    )
    parser.add_argument(
        "--sync", action="store_true", help="push the application commands to Discord now"
    )
    args = parser.parse_args(argv)
    settings = _settings_or_exit(need_frontend=True)
    if isinstance(settings, int):
        return settings
    return _run_until_done(lambda: run(settings, force_sync=args.sync))
