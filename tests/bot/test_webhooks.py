"""``POST /dashscope/events`` on real loopback HTTP: auth, bad bodies, and the emulator pushing
its §14.3 events into the engine (one query per pushed task; repeats, strangers and late events
cost nothing; a lost event is still found by polling)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench._support import CountingProvider, SimClock
from bot.web import WebServer, serve
from bot.webhooks import PATH, events_route
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.tasks import TaskEvent
from core.ports import VideoProvider
from emulator import Emulator, EmulatorConfig, PushConfig
from tests.core.fakes import RecordingPort, png
from tests.core.rig import Rig, open_rig
from tests.providers.test_eventbridge import EXAMPLE

TOKEN = "events-token-0123456789"
KEY = "sk-webhook-test"
SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="a lighthouse", resolution="720P", duration=5)
CHAT = ChatRef(platform="discord", user="u1", channel="c1", guild="g1")
RUN = 60.0  # every task: 1 s queued, then exactly RUN seconds


@dataclass
class Target:
    """Where the route hands events; bound to an engine once one is built."""

    offered: list[TaskEvent] = field(default_factory=list)
    wakes: int = 0
    engine_offer: Callable[[TaskEvent], bool] | None = None

    def offer(self, event: TaskEvent) -> bool:
        self.offered.append(event)
        return self.engine_offer(event) if self.engine_offer else True

    def wake(self) -> None:
        self.wakes += 1


@pytest.fixture
async def target() -> Target:
    return Target()


@pytest.fixture
async def server(target: Target) -> AsyncIterator[WebServer]:
    async with serve("127.0.0.1", 0, [events_route(TOKEN, target.offer, target.wake)]) as web:
        yield web


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def basic(password: str, user: str = "eventbridge") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def post(
    http: aiohttp.ClientSession, server: WebServer, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    sent = {"Content-Type": "application/json;charset=utf-8", **headers}
    async with http.post(server.url + PATH, data=body, headers=sent) as r:
        return r.status, await r.json()


GOOD = json.dumps(EXAMPLE).encode()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "wrong-token-0123456789"},
        {"x-api-key": TOKEN[:-1]},
        {"Authorization": basic("wrong-token-0123456789")},
        {"Authorization": "Bearer " + TOKEN},
        {"Authorization": "Basic %%%not-base64"},
    ],
    ids=["none", "wrong-key", "prefix-key", "wrong-basic", "bearer", "garbled-basic"],
)
async def test_without_the_token_nothing_is_read(
    http: aiohttp.ClientSession, server: WebServer, target: Target, headers: dict[str, str]
) -> None:
    status, answer = await post(http, server, GOOD, headers)
    assert status == 401 and "token" in answer["message"]
    assert target.offered == [] and target.wakes == 0


@pytest.mark.parametrize(
    "headers",
    [{"x-api-key": TOKEN}, {"Authorization": basic(TOKEN)}, {"Authorization": basic(TOKEN, "")}],
    ids=["header", "basic", "basic-no-user"],
)
async def test_the_token_as_header_or_basic_password_is_accepted(
    http: aiohttp.ClientSession, server: WebServer, target: Target, headers: dict[str, str]
) -> None:
    status, answer = await post(http, server, GOOD, headers)
    assert (status, answer) == (200, {"accepted": True})
    assert [e.task_id for e in target.offered] == [EXAMPLE["data"]["task_id"]]
    assert target.wakes == 1


async def test_a_malformed_body_is_refused_and_another_event_type_acknowledged(
    http: aiohttp.ClientSession, server: WebServer, target: Target
) -> None:
    auth = {"x-api-key": TOKEN}
    status, answer = await post(http, server, b"{not json", auth)
    assert status == 400 and "not JSON" in answer["message"]
    other = json.dumps({**EXAMPLE, "type": "acs.oss:ObjectCreated:PutObject"}).encode()
    status, answer = await post(http, server, other, auth)
    assert status == 200 and answer["accepted"] is False
    assert target.offered == []


# ---------------------------------------------------------------------- with the engine
@dataclass
class Pushed:
    emu: Emulator
    rig: Rig
    provider: CountingProvider
    clock: SimClock
    port: RecordingPort = field(default_factory=RecordingPort)

    async def submit(self) -> int:
        view = await self.rig.service.submit(spec=SPEC, image=png(), chat=CHAT)
        await self.rig.poll_once()
        return view.id

    async def job_task(self, job_id: int) -> str:
        job = await self.rig.store.get_job(job_id)
        assert job is not None and job.task_id is not None
        return job.task_id

    async def until(self, seconds: float) -> None:
        """Passes for ``seconds`` of simulated time, the clock following each pass's wakeup."""
        end = self.clock.now().timestamp() + seconds
        while self.clock() < end:
            report = await self.rig.poll_once()
            await self.rig.deliver_once(self.port)
            ahead = 1.0
            if report.next_wakeup is not None:
                ahead = report.next_wakeup.timestamp() - self.clock()
            self.clock.advance(max(0.05, min(ahead, 5.0, end - self.clock())))


@pytest.fixture
async def pushed(
    tmp_path: Path, server: WebServer, target: Target, request: pytest.FixtureRequest
) -> AsyncIterator[Pushed]:
    clock = SimClock()
    options: dict[str, Any] = getattr(request, "param", {})
    push = PushConfig(url=server.url + PATH, auth="api-key", token=TOKEN, **options)
    emu = Emulator(
        EmulatorConfig(
            api_key=KEY,
            clock=clock,
            seed=5,
            render_max_side=64,
            queue_delay=1.0,
            duration_sigma=0.0,
            durations={SPEC.model: RUN},
            push=push,
        )
    )
    await emu.start()
    counting: list[CountingProvider] = []

    def count(inner: VideoProvider) -> VideoProvider:
        counting.append(CountingProvider(inner, clock))
        return counting[0]

    rig = await open_rig(
        tmp_path,
        clock=clock,
        base_url=emu.base_url,
        api_key=KEY,
        wrap_provider=count,
        retry_delay=0,
        events_token=TOKEN,
    )
    target.engine_offer = rig.rt.engine.pushes.offer
    try:
        yield Pushed(emu, rig, counting[0], clock)
    finally:
        await rig.aclose()
        await emu.close()


async def test_a_pushed_task_costs_one_query_asked_at_once(pushed: Pushed) -> None:
    job_id = await pushed.submit()
    await pushed.until(1 + RUN - 0.5)
    polled = pushed.provider.queries
    assert polled <= 1  # push presumed healthy: polling backs off to sparse checks
    pushed.clock.advance(0.5)
    deliveries = await pushed.emu.settle_push()
    assert [d.outcome for d in deliveries] == ["delivered"]
    # the endpoint answered without touching the engine: nothing was asked yet
    assert pushed.provider.queries == polled
    report = await pushed.rig.poll_once()
    assert report.pushed == 1 and pushed.provider.queries == polled + 1
    job = await pushed.rig.store.get_job(job_id)
    assert job is not None and job.finished_at == pushed.clock.now()


@pytest.mark.parametrize(
    "pushed", [{"duplicate": 1.0, "replay": 1.0, "replay_delay": 20.0}], indirect=True
)
async def test_duplicates_and_replays_are_acknowledged_and_ignored(pushed: Pushed) -> None:
    job_id = await pushed.submit()
    await pushed.until(1 + RUN)
    await pushed.emu.settle_push()
    await pushed.until(30)  # the job is delivered; the replay comes 20 s after the first copy
    log = await pushed.emu.settle_push()
    assert sorted(d.kind for d in log) == ["duplicate", "original", "replay"]
    assert {d.status for d in log} == {200}
    job = await pushed.rig.store.get_job(job_id)
    assert job is not None and job.status is JobStatus.DELIVERED
    # one query for the pushed task, none for the copies (the polls before its end aside)
    gets = [r for r in pushed.emu.request_log if r.method == "GET" and "/tasks/" in r.path]
    assert len(gets) <= 2
    assert pushed.rig.rt.engine.pushes.repeated == 2


async def test_an_event_for_a_task_that_is_not_ours_asks_nothing(
    pushed: Pushed, http: aiohttp.ClientSession, server: WebServer
) -> None:
    await pushed.submit()
    before = pushed.provider.queries
    status, answer = await post(http, server, GOOD, {"x-api-key": TOKEN})
    assert (status, answer) == (200, {"accepted": True})
    report = await pushed.rig.poll_once()
    assert report.pushed == 0 and pushed.provider.queries == before


@pytest.mark.parametrize("pushed", [{"loss": 1.0}], indirect=True)
async def test_lost_events_are_still_delivered_by_polling(pushed: Pushed) -> None:
    ids = [await pushed.submit(), await pushed.submit()]
    await pushed.until(1 + RUN + pushed.rig.rt.config.push_ceiling)
    log = await pushed.emu.settle_push()
    assert [d.outcome for d in log] == ["lost", "lost"]
    for job_id in ids:
        job = await pushed.rig.store.get_job(job_id)
        assert job is not None and job.status is JobStatus.DELIVERED
    assert sorted(r.id for r in pushed.port.results) == ids
    await pushed.until(pushed.rig.rt.config.push_grace + 1)
    assert not pushed.rig.rt.engine.pushes.healthy  # events stopped: polling is back to normal
