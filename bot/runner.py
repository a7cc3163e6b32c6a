"""The composition root: settings → the runtime (``bot.builder``) → the chat front-ends (the
Discord client, the Slack app, or both) and the worker, side by side over one engine.

``animate-bot run`` / ``python -m bot`` land in :func:`main`. The process needs nothing but its
environment variables (or a ``.env`` file in the working directory).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping

import discord
import yarl
from dotenv import find_dotenv, load_dotenv

from bot import health, instance_lock
from bot.bot import AnimateBot
from bot.builder import Runtime, build, slack_frontend
from bot.log import configure_logging
from bot.metrics import BotMetrics
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


async def run(settings: Settings, *, force_sync: bool = False) -> None:
    """Run the bot until closed or SIGTERM; ``InstanceLocked`` if another process runs it."""
    # SQLite serves one process: a second one would "recover" this one's in-flight jobs.
    # Taken before anything is opened; a multi-process store (PostgreSQL) would skip it.
    with instance_lock.exclusive(settings.database_path.parent):
        await _serve(settings, force_sync=force_sync)


def http_routes(
    settings: Settings,
    rt: Runtime,
    pulse: Pulse | None = None,
    metrics: BotMetrics | None = None,
) -> list[Route]:
    """What the bot's HTTP server answers (more routes plug in here)."""
    routes: list[Route] = []
    if pulse is not None:
        routes += probe_routes(pulse, rt.store, rt.router)
    if metrics is not None:
        routes.append(metrics.route(rt.store, rt.clock.now, rt.context.slots_of))
    if settings.events_token is not None:
        offer: Callable[[TaskEvent], bool] = rt.engine.pushes.offer
        if metrics is not None:
            offer = metrics.push(offer)
        routes.append(events_route(settings.events_token, offer, rt.worker.wake))
    return routes


@contextlib.asynccontextmanager
async def http_server(
    settings: Settings,
    rt: Runtime,
    pulse: Pulse | None = None,
    metrics: BotMetrics | None = None,
) -> AsyncIterator[WebServer | None]:
    """The HTTP server while the block runs, when ``HTTP_PORT`` is set."""
    if settings.http_port is None:
        yield None
        return
    routes = http_routes(settings, rt, pulse, metrics)
    async with serve(settings.http_host, settings.http_port, routes) as web:
        yield web


async def _serve(settings: Settings, *, force_sync: bool) -> None:
    """Build the runtime, then run the front-ends, the worker and the HTTP server side by side
    until SIGTERM (or, with Discord, until its client closes)."""
    pulse = Pulse(settings.health_max_age)
    # the numbers are served on the HTTP server only: without it, nothing is counted
    metrics = BotMetrics(settings.dashscope.region) if settings.http_port is not None else None

    def heartbeat() -> None:
        pulse.beat()
        health.touch(settings.database_path)

    async with (
        build(settings, heartbeat=heartbeat, metrics=metrics) as rt,
        http_server(settings, rt, pulse, metrics),
        contextlib.AsyncExitStack() as fronts,
    ):
        if settings.slack is not None:
            await fronts.enter_async_context(slack_frontend(rt, settings.slack))
        bot: AnimateBot | None = None
        if settings.discord_token is not None:
            bot = AnimateBot(
                service=rt.service,
                router=rt.router,
                region=settings.dashscope.region,
                state_dir=settings.database_path.parent,
                dev_guild_id=settings.dev_guild_id,
                force_sync=force_sync,
            )
            await fronts.enter_async_context(bot)
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        closing: set[asyncio.Task[None]] = set()
        worker = asyncio.create_task(rt.worker.run(), name="worker")
        grace = settings.stop_grace_seconds

        async def stop() -> None:
            # no new work; the pass in flight (its writes, its posts) and the background
            # downloads finish within the grace; only then do the front-ends disconnect
            done = await finish_in_flight(rt.worker, worker, rt.engine.drain, grace)
            log.info("stop: work in flight %s", "finished" if done else "cut short")
            stopping.set()
            if bot is not None:
                await bot.close()

        def on_sigterm() -> None:
            if closing or stopping.is_set():
                return
            log.info("SIGTERM: closing (work in flight gets up to %g s)", grace)
            task = loop.create_task(stop())
            closing.add(task)

        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            if bot is not None and settings.discord_token is not None:
                await bot.start(settings.discord_token)
            else:
                await stopping.wait()
            for task in list(closing):
                await task
        finally:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signal.SIGTERM)
            # the worker finishes its tick; the builder then cancels background downloads
            # before the session and database close under them (they resume next start)
            rt.worker.stop()
            if not worker.cancelled():
                await worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="animate-bot run", description="Run the chat bot (Discord, Slack, or both)."
    )
    parser.add_argument(
        "--sync", action="store_true", help="push the application commands to Discord now"
    )
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))  # the working directory's .env, as documented
    try:
        settings = from_env()
    except ConfigError as exc:
        sys.stderr.write(f"animate-bot: {exc.message}\n")
        return EXIT_CONFIG
    slack = settings.slack
    configure_logging(
        settings.log_level,
        secrets=(
            settings.discord_token,
            settings.dashscope.api_key,
            settings.events_token,
            slack.bot_token if slack else None,
            slack.app_token if slack else None,
        ),
        log_format=settings.log_format,
    )
    use_dev_endpoints(os.environ)
    try:
        asyncio.run(run(settings, force_sync=args.sync))
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
    return 0
