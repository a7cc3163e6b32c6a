"""EventBridge completion push (§14): the §14.3 event, auth, loss, duplicates, replays, retries."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulator import Emulator, PushConfig
from tests.emulator.helpers import EmulatorFactory, FakeClock, body, create, query
from tests.emulator.receiver import Receiver

TOKEN = "tok-push-secret"
# §14.3, typed in from the reference's example event.
EVENT_KEYS = {
    "datacontenttype", "aliyunaccountid", "aliyunpublishtime", "data", "aliyunoriginalaccountid",
    "specversion", "aliyuneventbusname", "id", "source", "time", "aliyunregionid", "type",
}  # fmt: skip
DATA_KEYS = {
    "start_time", "user_api_unique_key", "task_status", "contain_result", "end_time", "task_id",
    "region", "request_id", "api_key_id",
}  # fmt: skip
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
WALL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    await rec.start()
    yield rec
    await rec.close()


async def _pusher(make_emulator: EmulatorFactory, receiver: Receiver, **push: Any) -> Emulator:
    options: dict[str, Any] = {"auth": "api-key", "token": TOKEN, **push}
    return await make_emulator(push=PushConfig(url=receiver.url, **options), render_max_side=64)


async def _finished_task(
    http: aiohttp.ClientSession, emu: Emulator, clock: FakeClock
) -> tuple[str, str]:
    status, got = await create(http, emu, body())
    assert status == 200, got
    clock.advance(10_000)
    return got["output"]["task_id"], got["request_id"]


async def test_event_body_and_api_key_header(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emu = await _pusher(make_emulator, receiver)
    task_id, request_id = await _finished_task(http, emu, clock)
    log = await emu.settle_push()
    assert [(d.task_id, d.outcome, d.status) for d in log] == [(task_id, "delivered", 200)]
    [got] = receiver.received
    assert got.headers["x-api-key"] == TOKEN and "Authorization" not in got.headers
    assert got.headers["Content-Type"].startswith("application/json")
    event = got.body
    assert set(event) == EVENT_KEYS and set(event["data"]) == DATA_KEYS
    assert (event["type"], event["source"], event["specversion"]) == (
        "dashscope:System:AsyncTaskFinish", "acs.dashscope", "1.0",
    )  # fmt: skip
    assert event["aliyuneventbusname"] == "default" and event["aliyunregionid"] == "cn-beijing"
    assert event["datacontenttype"] == "application/json;charset=utf-8"
    assert RFC3339_MS.match(event["time"]) and RFC3339_MS.match(event["aliyunpublishtime"])
    assert re.fullmatch(r"[0-9a-f-]{36}", event["id"])
    data = event["data"]
    assert (data["task_id"], data["task_status"], data["request_id"]) == (
        task_id,
        "SUCCEEDED",
        request_id,
    )
    assert data["contain_result"] is False and data["region"] == "cn-beijing"
    assert data["user_api_unique_key"].endswith(":wan2.2-i2v-flash")
    assert WALL.match(data["start_time"]) and WALL.match(data["end_time"])
    # end_time is UTC+8 wall time of the finish; "time" is the same moment in UTC.
    done = (await query(http, emu, task_id))["output"]
    assert done["end_time"].startswith(data["end_time"])
    assert (
        event["time"][11:19]
        == f"{(int(data['end_time'][11:13]) - 8) % 24:02d}{data['end_time'][13:]}"
    )
    assert TOKEN not in caplog.text


async def test_basic_auth_and_unique_ids(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    emu = await _pusher(make_emulator, receiver, auth="basic", basic_user="bot")
    for _ in range(2):
        await create(http, emu, body())
    emu.inject("task_failure")
    status, failing = await create(http, emu, body("wan2.6-i2v"))
    assert status == 200
    clock.advance(10_000)
    await emu.settle_push()
    assert len(receiver.received) == 3
    expected = "Basic " + base64.b64encode(f"bot:{TOKEN}".encode()).decode()
    assert {r.headers["Authorization"] for r in receiver.received} == {expected}
    assert all("x-api-key" not in r.headers for r in receiver.received)
    assert len({r.body["id"] for r in receiver.received}) == 3
    statuses = {r.body["data"]["task_id"]: r.body["data"]["task_status"] for r in receiver.received}
    assert statuses[failing["output"]["task_id"]] == "FAILED"
    assert sorted(statuses.values()) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]


async def test_loss(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    emu = await _pusher(make_emulator, receiver, loss=1.0)
    task_id, _ = await _finished_task(http, emu, clock)
    log = await emu.settle_push()
    assert [(d.task_id, d.outcome, d.status) for d in log] == [(task_id, "lost", None)]
    assert receiver.received == [] and emu.push_pending() == 0


async def test_duplication(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    emu = await _pusher(make_emulator, receiver, duplicate=1.0)
    await _finished_task(http, emu, clock)
    log = await emu.settle_push()
    assert sorted(d.kind for d in log) == ["duplicate", "original"]
    first, second = receiver.received
    assert first.body == second.body  # the same event, the same id, delivered twice


async def test_replay_comes_later_on_the_clock(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    emu = await _pusher(make_emulator, receiver, replay=1.0, replay_delay=300.0)
    await _finished_task(http, emu, clock)
    await emu.settle_push()
    assert len(receiver.received) == 1 and emu.push_pending() == 1
    clock.advance(299.0)
    await emu.settle_push()
    assert len(receiver.received) == 1
    clock.advance(1.0)
    log = await emu.settle_push()
    assert [d.kind for d in log] == ["original", "replay"]
    assert receiver.received[1].body == receiver.received[0].body


async def test_backoff_retries_until_2xx(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    emu = await _pusher(make_emulator, receiver)  # BACKOFF_RETRY: 3 retries, 10–20 s apart
    receiver.statuses.extend([500, 404])
    await _finished_task(http, emu, clock)
    await emu.settle_push()
    assert len(receiver.received) == 1
    clock.advance(9.99)  # the backoff interval is at least 10 s
    await emu.settle_push()
    assert len(receiver.received) == 1
    for step in (10.01, 20.0):  # 20 s after each failure, the next try is due whatever the draw
        clock.advance(step)
        await emu.settle_push()
    log = emu.push_log
    assert [(d.attempt, d.outcome, d.status) for d in log] == [
        (0, "failed", 500), (1, "failed", 404), (2, "delivered", 200),
    ]  # fmt: skip
    assert len({r.body["id"] for r in receiver.received}) == 1 and emu.push_pending() == 0


async def test_exponential_retries_and_dead_letter(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    emu = await _pusher(
        make_emulator, receiver, retry_strategy="EXPONENTIAL_DECAY_RETRY", max_retries=3
    )
    receiver.statuses.extend([503] * 10)
    await _finished_task(http, emu, clock)
    sent = []
    for step in (0.0, 1.0, 2.0, 4.0, 100.0):  # intervals 1, 2, 4 s; then no retry is left
        clock.advance(step)
        await emu.settle_push()
        sent.append(len(receiver.received))
    assert sent == [1, 2, 3, 4, 4]
    assert [d.outcome for d in emu.push_log] == ["failed", "failed", "failed", "dead"]
    assert emu.push_pending() == 0


async def test_unreachable_receiver_counts_as_failure(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    closed = Receiver()
    await closed.start()
    await closed.close()  # the port is free again: connections are refused
    emu = await make_emulator(push=PushConfig(url=closed.url, retry_strategy="NONE"))
    await _finished_task(http, emu, clock)
    assert [(d.outcome, d.status) for d in await emu.settle_push()] == [("dead", None)]


async def test_a_stuck_receiver_blocks_nothing(
    make_emulator: EmulatorFactory,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    receiver.hold = asyncio.Event()
    emu = await _pusher(make_emulator, receiver)
    task_id, _ = await _finished_task(http, emu, clock)
    assert (await query(http, emu, task_id))["output"]["task_status"] == "SUCCEEDED"
    await asyncio.wait_for(receiver.arrived.wait(), 10)  # the background loop sent it
    # While the receiver sits on the request, the API keeps answering and tasks keep finishing.
    assert emu.push_pending() == 1
    other, _ = await _finished_task(http, emu, clock)
    assert (await query(http, emu, other))["output"]["task_status"] == "SUCCEEDED"
    assert [d.outcome for d in emu.push_log] == []
    receiver.hold.set()
    log = await emu.settle_push()
    assert sorted(d.task_id for d in log) == sorted([task_id, other])
    assert {d.outcome for d in log} == {"delivered"}


async def test_cancel_emits_only_when_configured(
    make_emulator: EmulatorFactory, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    for include, expected in ((False, []), (True, ["CANCELED"])):
        receiver.received.clear()
        emu = await make_emulator(
            queue_delay=100.0, push=PushConfig(url=receiver.url, include_canceled=include)
        )
        _, got = await create(http, emu, body())
        async with http.post(
            f"{emu.base_url}/tasks/{got['output']['task_id']}/cancel",
            headers={"Authorization": "Bearer k"},
        ) as r:
            assert r.status == 200
        await emu.settle_push()
        assert [r.body["data"]["task_status"] for r in receiver.received] == expected


async def test_real_clock_delivers_without_being_asked(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """CLI mode: nobody queries; the emulator's own loop finishes the task and pushes."""
    from emulator import EmulatorConfig

    config = EmulatorConfig(
        time_scale=0.001, duration_sigma=0.0, queue_delay=0.0, push=PushConfig(url=receiver.url)
    )
    async with Emulator(config) as emu:
        await create(http, emu, body())
        await asyncio.wait_for(receiver.arrived.wait(), 10)
    assert receiver.received[0].body["data"]["task_status"] == "SUCCEEDED"


def test_push_config_is_checked() -> None:
    with pytest.raises(ValueError, match="token"):
        PushConfig(url="http://127.0.0.1/x", auth="basic")
    with pytest.raises(ValueError, match="loss"):
        PushConfig(url="http://127.0.0.1/x", loss=1.5)
    assert TOKEN not in repr(PushConfig(url="http://127.0.0.1/x", auth="api-key", token=TOKEN))
