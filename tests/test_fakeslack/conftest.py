from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import FakeSlack


class Bolt:
    """A real Bolt ``AsyncApp`` on the aiohttp Socket Mode handler, pointed at the fake."""

    def __init__(
        self, slack: FakeSlack, client: AsyncWebClient, *, process_before_response: bool
    ) -> None:
        self.slack = slack
        self.app = AsyncApp(client=client, process_before_response=process_before_response)
        self.handler = AsyncSocketModeHandler(self.app, slack.app_token)

    async def start(self) -> None:
        await self.handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in Bolt
        await self.slack.wait_for(lambda: self.slack.socket.live)

    async def stop(self) -> None:
        await self.handler.close_async()  # type: ignore[no-untyped-call]  # unannotated in Bolt


@pytest.fixture
async def slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    # slack_sdk passes $HTTP(S)_PROXY explicitly, which would send loopback traffic away (§12)
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    """The real slack_sdk client, redirected only by ``base_url`` (``SLACK_API_URL``)."""
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
async def make_bolt(slack: FakeSlack, client: AsyncWebClient) -> AsyncIterator[Callable[..., Bolt]]:
    """``bolt = make_bolt()``; add listeners to ``bolt.app``; ``await bolt.start()``."""
    made: list[Bolt] = []

    def make(*, process_before_response: bool = False) -> Bolt:
        bolt = Bolt(slack, client, process_before_response=process_before_response)
        made.append(bolt)
        return bolt

    yield make
    for bolt in made:
        await bolt.stop()
