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
from bot.platforms import configured, open_ports
from bot.settings import Settings, from_env
from bot.web import Route, WebServer, serve
from bot.webhooks import events_route
from core.domain.errors import ConfigError
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


def _heartbeat(settings: Settings) -> Callable[[], None]:
    return lambda: health.touch(settings.database_path)


def http_routes(settings: Settings, rt: Runtime) -> list[Route]:
    """What the bot's HTTP server answers (more routes plug in here)."""
    routes: list[Route] = []
    if settings.events_token is not None:
        if settings.engine:
            offer = rt.engine.pushes.offer
            routes.append(events_route(settings.events_token, offer, rt.worker.wake))
        else:
            # events go to the engine in memory: a front-end alone has none to hand them to
            log.warning("ENGINE=off: EVENTS_TOKEN ignored; point EventBridge at a worker")
    return routes


@contextlib.asynccontextmanager
async def http_server(settings: Settings, rt: Runtime) -> AsyncIterator[WebServer | None]:
    """The HTTP server while the block runs, when ``HTTP_PORT`` is set."""
    if settings.http_port is None:
        yield None
        return
    async with serve(settings.http_host, settings.http_port, http_routes(settings, rt)) as web:
        yield web


async def run(settings: Settings, *, force_sync: bool = False) -> None:
    """Run the bot until closed or SIGTERM; ``InstanceLocked`` if another process runs it."""
    with _one_process_per_sqlite(settings):
        await _serve(settings, force_sync=force_sync)


async def _serve(settings: Settings, *, force_sync: bool) -> None:
    """Build the runtime, then run the front-ends, the worker (unless ``ENGINE=off``) and the
    HTTP server side by side until SIGTERM (or, with Discord, until its client closes)."""
    beat = _heartbeat(settings) if settings.engine else None
    async with (
        build(settings, heartbeat=beat) as rt,
        http_server(settings, rt),
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

        def on_sigterm() -> None:
            log.info("SIGTERM: closing")
            rt.worker.stop()
            stopping.set()
            if bot is not None:
                task = loop.create_task(bot.close())
                closing.add(task)
                task.add_done_callback(closing.discard)

        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        worker = None
        if settings.engine:
            worker = asyncio.create_task(rt.worker.run(), name="worker")
        else:
            log.info("ENGINE=off: front-end only; worker processes run the jobs")
        try:
            if bot is not None and settings.discord_token is not None:
                await bot.start(settings.discord_token)
                for task in list(closing):
                    await task
            else:
                await stopping.wait()
        finally:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signal.SIGTERM)
            # the worker finishes its tick; the builder then cancels background downloads
            # before the session and database close under them (they resume next start)
            rt.worker.stop()
            if worker is not None:
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
    with _one_process_per_sqlite(settings):
        async with (
            build(settings, heartbeat=_heartbeat(settings)) as rt,
            contextlib.AsyncExitStack() as ports,
            http_server(settings, rt),
        ):
            await open_ports(settings, rt.router, ports)
            loop = asyncio.get_running_loop()
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGTERM, rt.worker.stop)
            try:
                await rt.worker.run()
            finally:
                with contextlib.suppress(NotImplementedError):
                    loop.remove_signal_handler(signal.SIGTERM)


def _settings_or_exit(*, need_frontend: bool) -> Settings | int:
    load_dotenv(find_dotenv(usecwd=True))  # the working directory's .env, as documented
    try:
        settings = from_env(need_frontend=need_frontend)
    except ConfigError as exc:
        sys.stderr.write(f"animate-bot: {exc.message}\n")
        return EXIT_CONFIG
    configure_logging(settings.log_level, secrets=settings.secrets)
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
