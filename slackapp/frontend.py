"""The Slack front-end, assembled from what ``bot/`` hands in: Bolt's ``AsyncApp`` over Socket
Mode (aiohttp), two Web API clients on ``SLACK_API_URL``, the listeners and the port.

* Socket Mode: ``apps.connections.open`` on the same base URL gives the WebSocket (§2, §12),
  so one setting points everything at a local stand-in. No signing secret exists in Socket
  Mode (payloads arrive over the app-token-authenticated socket), so Bolt's request
  verification is off; ``process_before_response`` stays False, as Bolt's docs advise outside
  FaaS: ``ack()`` is sent the moment it is called and the listener carries on.
* Retries: no client retries a lost connection (writes are not idempotent, §7.4); the
  listeners' client honours one ``Retry-After`` (``AsyncRateLimitErrorRetryHandler``, Bolt
  copies it into every request's client); the delivery client retries nothing and hands 429s
  to the engine, which waits at least ``Retry-After`` without stalling its pass.
* Duplicate deliveries: an envelope delivered again (Slack retries, reconnects) carries the
  same ``trigger_id`` / ``event_id``; it is acked and dropped.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from core.app.service import AnimateService
from core.domain.catalog import Region
from slackapp import clicks, kit, listeners
from slackapp.api_errors import TRANSIENT, error_of
from slackapp.deps import Deps
from slackapp.fetch import FileReader
from slackapp.people import People
from slackapp.places import Places
from slackapp.slack_port import SlackPort
from slackapp.submission import PLATFORM
from slackapp.thread_scan import Identity
from slackapp.video_share import VideoShare

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://slack.com/api/"
SEEN_MAX = 10_000


class SlackStartError(Exception):
    """Slack refused a token at start-up (a configuration problem, said in one line)."""


class SlackFrontEnd:
    #: the ``ChatRef.platform`` of the jobs it records and delivers
    PLATFORM: ClassVar[str] = PLATFORM

    def __init__(
        self,
        *,
        service: AnimateService,
        region: Region,
        session: aiohttp.ClientSession,
        bot_token: str,
        app_token: str,
        api_url: str = DEFAULT_API_URL,
        ack_budget: float = 2.0,
        share_waits: Sequence[float] = (0.0, 0.5, 1.0),
    ) -> None:
        self.client = AsyncWebClient(
            token=bot_token,
            base_url=api_url,
            session=session,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
        )
        delivery = AsyncWebClient(
            token=bot_token, base_url=api_url, session=session, retry_handlers=[]
        )
        self.port = SlackPort(delivery, VideoShare(delivery, session, waits=share_waits))
        # Bolt also reads $SLACK_BOT_TOKEN by itself and then warns that the client given here
        # wins; it does, and it holds that very token: the warning would only mislead
        with _quiet(logging.getLogger("slack_bolt.AsyncApp")):
            self.app = AsyncApp(
                client=self.client,
                name="animate-bot",
                process_before_response=False,
                request_verification_enabled=False,
            )
        api = urlsplit(api_url)
        stand_in = api.hostname not in ("slack.com", "www.slack.com")
        deps = Deps(
            service=service,
            region=region,
            client=self.client,
            people=People(self.client),
            places=Places(self.client),
            reader=FileReader(
                session,
                bot_token,
                extra_origins=frozenset({f"{api.scheme}://{api.netloc}"} if stand_in else ()),
            ),
            ack_budget=ack_budget,
        )
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.app.middleware(self._once)
        listeners.register(self.app, deps)
        clicks.register(self.app, deps)
        self.app.action(kit.ACTION_DOWNLOAD)(_ack_only)  # a URL button still sends a payload
        self.app.error(_log_error)
        self.deps = deps
        self.handler = AsyncSocketModeHandler(self.app, app_token)

    async def start(self) -> None:
        """Check the bot token (``auth.test``), then open the Socket Mode connection."""
        try:
            me = await self.client.auth_test()
        except SlackApiError as exc:
            raise SlackStartError(f"Slack refused SLACK_BOT_TOKEN ({error_of(exc)}).") from None
        except TRANSIENT as exc:
            raise SlackStartError(
                f"Slack's Web API at {self.client.base_url} did not answer ({type(exc).__name__})."
            ) from None
        self.port.identity = Identity(str(me["team_id"]), str(me["user_id"]), str(me["bot_id"]))
        try:
            # slack_sdk retries a refused connection forever (every ping interval): ask once
            # here, so a wrong app-level token is a start-up error, not a silent loop
            await self.client.apps_connections_open(app_token=self.handler.app_token)
        except SlackApiError as exc:
            raise SlackStartError(f"Slack refused SLACK_APP_TOKEN ({error_of(exc)}).") from None
        await self.handler.connect_async()  # type: ignore[no-untyped-call]  # Bolt: untyped
        log.info("connected to Slack workspace %s as %s", me.get("team"), me.get("user"))

    async def close(self) -> None:
        await self.handler.close_async()  # type: ignore[no-untyped-call]  # Bolt: untyped

    def ready(self) -> bool:
        return self.port.ready()

    async def _once(self, body: dict[str, Any], next_: Callable[[], Awaitable[None]]) -> Any:
        """Drop an envelope seen before (same ``event_id`` or ``trigger_id``), acking it."""
        key = body.get("event_id") or body.get("trigger_id")
        if isinstance(key, str):
            if key in self._seen:
                log.info("duplicate Slack delivery %s ignored", key)
                return BoltResponse(status=200, body="")
            self._seen[key] = None
            if len(self._seen) > SEEN_MAX:
                self._seen.popitem(last=False)
        await next_()
        return None


class _DropWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.WARNING


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """No warnings from ``logger`` meanwhile (a filter: Bolt resets the logger's level)."""
    drop = _DropWarnings()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


async def _ack_only(ack: AsyncAck) -> None:
    await ack()


async def _log_error(error: Exception) -> None:
    log.error("Slack listener failed: %s", error, exc_info=error)
