"""Delivery without a front-end: the chat platforms a worker posts to through their REST APIs.

``animate-bot worker`` runs the engine alone: no Discord gateway, no Slack Socket Mode. It still
posts results, progress and failure notices, so every platform offers here a delivery port that
needs only its bot token and the platform's REST API. The worker opens the port of every
platform whose settings are present and registers it in the engine's router under the
``ChatRef.platform`` its jobs carry; a job of a platform no worker serves stays due (it is never
failed for that).

A front-end joins with one ``Platform`` entry in ``PLATFORMS``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import discord
from discord.ext import commands

from bot.bot import PLATFORM as DISCORD
from bot.bot import intents
from bot.settings import Settings
from cogs.port import DiscordPort
from core.engine.router import DeliveryRouter
from core.ports import DeliveryPort
from slackapp.rest import rest_port
from slackapp.submission import PLATFORM as SLACK

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Platform:
    #: the ``ChatRef.platform`` of this front-end's jobs
    name: str
    #: whether ``settings`` hold what ``open`` needs (the bot token)
    configured: Callable[[Settings], bool]
    #: a delivery port speaking the platform's REST API only; closed on exit
    open: Callable[[Settings], AbstractAsyncContextManager[DeliveryPort]]


@asynccontextmanager
async def discord_rest(settings: Settings) -> AsyncIterator[DeliveryPort]:
    """The Discord port on a client that logs in (REST, the bot token) and never connects the
    gateway: messages go to channel and thread ids, which need no cache. Without the gateway's
    guild cache the upload limit is Discord's default (10 MiB): a larger video is re-encoded to
    fit it, or posted as its link."""
    assert settings.discord_token is not None  # noqa: S101 - configured() checked it
    client = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=intents(),
        allowed_mentions=discord.AllowedMentions.none(),
        help_command=None,
    )
    try:
        await client.login(settings.discord_token)
        yield DiscordPort(client)
    finally:
        await client.close()


@asynccontextmanager
async def slack_rest(settings: Settings) -> AsyncIterator[DeliveryPort]:
    """The Slack port on a Web API client with the bot token: no Socket Mode connection."""
    assert settings.slack is not None  # noqa: S101 - configured() checked it
    async with rest_port(settings.slack.bot_token, settings.slack.api_url) as port:
        yield port


PLATFORMS: tuple[Platform, ...] = (
    Platform(DISCORD, lambda s: s.discord_token is not None, discord_rest),
    Platform(SLACK, lambda s: s.slack is not None, slack_rest),
)


def configured(settings: Settings, platforms: Sequence[Platform] = PLATFORMS) -> list[str]:
    """The platforms ``settings`` hold a token for."""
    return [p.name for p in platforms if p.configured(settings)]


async def open_ports(
    settings: Settings,
    router: DeliveryRouter,
    stack: AsyncExitStack,
    platforms: Sequence[Platform] = PLATFORMS,
) -> list[str]:
    """Open and register the port of every configured platform (closed with ``stack``); the
    names of those opened."""
    opened: list[str] = []
    for platform in platforms:
        if not platform.configured(settings):
            continue
        port = await stack.enter_async_context(platform.open(settings))
        router.register(platform.name, port)
        stack.callback(router.unregister, platform.name)
        opened.append(platform.name)
        log.info("posting %s results through its REST API", platform.name)
    return opened
