"""/healthz and /readyz on the bot's HTTP server: a fresh pass, a stale one, a broken database,
a front-end that is not connected."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.builder import build
from bot.metrics import BotMetrics
from bot.probes import Pulse, probe_routes
from bot.runner import http_server
from bot.settings import DashScopeSettings, Settings
from bot.web import serve
from core.engine.router import DeliveryRouter
from storage import SqliteJobStore
from tests.core.fakes import RecordingPort


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as r:
        return r.status, await r.text()


async def test_alive_while_passes_succeed_and_not_once_they_stop(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    ticks = Ticks()
    pulse = Pulse(60, clock=ticks)
    router = DeliveryRouter()
    async with (
        SqliteJobStore.open(tmp_path / "animate.db") as store,
        serve("127.0.0.1", 0, probe_routes(pulse, store, router)) as web,
    ):
        assert await get(http, web.url + "/healthz") == (200, "ok\n"), "fresh from the start"
        ticks.now += 59
        pulse.beat()
        ticks.now += 59
        assert (await get(http, web.url + "/healthz"))[0] == 200, "the last pass counts"
        ticks.now += 2
        status, text = await get(http, web.url + "/healthz")
        assert status == 503
        assert text == "no engine and delivery pass succeeded in the last 60 s\n"


def test_a_front_end_only_process_has_no_passes_to_be_late() -> None:
    ticks = Ticks()
    pulse = Pulse(60, engine=False, clock=ticks)
    ticks.now += 3600
    assert pulse.problem() is None


async def test_ready_needs_the_database_and_every_front_end_connected(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    router = DeliveryRouter()
    connected = {"discord": False}
    async with SqliteJobStore.open(tmp_path / "animate.db") as store:
        routes = probe_routes(Pulse(60), store, router)
        async with serve("127.0.0.1", 0, routes) as web:
            assert await get(http, web.url + "/readyz") == (503, "no front-end is registered\n")
            router.register("discord", RecordingPort(), ready=lambda: connected["discord"])
            router.register("slack", RecordingPort())
            assert await get(http, web.url + "/readyz") == (503, "not connected: discord\n")
            connected["discord"] = True
            assert await get(http, web.url + "/readyz") == (200, "ok\n")
    # the store is closed: the database no longer answers, whatever the front-ends say
    async with serve("127.0.0.1", 0, routes) as web:
        status, text = await get(http, web.url + "/readyz")
        assert status == 503 and text.startswith("the database does not answer")
        assert (await get(http, web.url + "/healthz"))[0] == 200, "alive is not ready"


async def test_the_runner_serves_the_probes_and_metrics_with_a_port(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    settings = Settings(
        dashscope=DashScopeSettings(api_key="sk-x", base_url_override="http://127.0.0.1:9/v1"),
        database_path=tmp_path / "animate.db",
        media_dir=tmp_path / "media",
        http_port=0,
    )
    metrics = BotMetrics(settings.dashscope.region)
    async with (
        build(settings, metrics=metrics) as rt,
        http_server(settings, rt, Pulse(60), metrics) as web,
    ):
        assert web is not None
        assert (await get(http, web.url + "/healthz"))[0] == 200
        assert (await get(http, web.url + "/readyz"))[0] == 503
        status, text = await get(http, web.url + "/metrics")
        assert status == 200 and "animate_queue_depth 0.0" in text
    unprobed = dataclasses.replace(settings)
    async with build(unprobed) as rt, http_server(unprobed, rt) as web:
        assert web is not None
        assert (await get(http, web.url + "/healthz"))[0] == 404
