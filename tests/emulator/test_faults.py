"""Rate limits (§10) and every fault kind, probabilistic and injected at runtime."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from emulator import Emulator, FaultConfig
from tests.emulator.helpers import AUTH, EmulatorFactory, FakeClock, body, create, query


async def _get_status(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url, headers=AUTH) as r:
        return r.status


async def test_submit_rps_per_model(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    slow = [(await create(http, emu, body("wan2.2-i2v-flash")))[0] for _ in range(3)]
    assert slow == [200, 200, 429]
    fast = [(await create(http, emu, body("wan2.6-i2v")))[0] for _ in range(6)]
    assert fast == [200] * 5 + [429]
    status, got = await create(http, emu, body("wan2.6-i2v"))
    assert (status, got["code"], got["message"]) == (
        429,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
    )
    clock.advance(1.0)
    assert (await create(http, emu, body("wan2.2-i2v-flash")))[0] == 200


async def test_query_qps_shared_by_query_list_and_cancel(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    statuses = [await _get_status(http, f"{emu.base_url}/tasks/x") for _ in range(10)]
    statuses += [await _get_status(http, f"{emu.base_url}/tasks") for _ in range(10)]
    assert statuses == [200] * 20
    async with http.post(f"{emu.base_url}/tasks/x/cancel", headers=AUTH) as r:
        assert r.status == 429
        assert (await r.json())["code"] == "Throttling.RateQuota"
    assert await _get_status(http, f"{emu.base_url}/tasks/x") == 429
    clock.advance(1.0)
    assert await _get_status(http, f"{emu.base_url}/tasks/x") == 200


async def test_rate_limits_can_be_disabled(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(enforce_rate_limits=False)
    assert [(await create(http, emu, body("wan2.2-i2v-flash")))[0] for _ in range(4)] == [200] * 4
    assert {await _get_status(http, f"{emu.base_url}/tasks/x") for _ in range(25)} == {200}


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("create_500", 500, "InternalError"),
        ("create_503", 503, "ModelServingError"),
        ("create_429", 429, "Throttling.RateQuota"),
    ],
)
async def test_injected_create_errors_create_no_task(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, status: int, code: str
) -> None:
    emu.inject(kind, count=2)  # type: ignore[arg-type]  # parametrized literal
    for _ in range(2):
        got_status, got = await create(http, emu, body("wan2.6-i2v"))
        assert (got_status, got["code"]) == (status, code)
    assert not emu.tasks
    assert (await create(http, emu, body("wan2.6-i2v")))[0] == 200


async def test_create_500_after_create_leaves_a_task(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    emu.inject("create_500_after_create")
    status, _ = await create(http, emu, body())
    assert status == 500
    assert len(emu.tasks) == 1


@pytest.mark.parametrize(
    ("kind", "status"), [("query_500", 500), ("query_503", 503), ("query_429", 429)]
)
async def test_injected_query_errors(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, status: int
) -> None:
    emu.inject(kind)  # type: ignore[arg-type]  # parametrized literal
    assert await _get_status(http, f"{emu.base_url}/tasks/x") == status
    assert await _get_status(http, f"{emu.base_url}/tasks/x") == 200
    assert emu.pending_faults(kind) == 0  # type: ignore[arg-type]  # parametrized literal


async def test_reset_before_and_after_create(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.inject("reset_before_create")
    with pytest.raises(aiohttp.ClientConnectionError):
        await create(http, emu, body())
    assert not emu.tasks
    emu.inject("reset_after_create")
    with pytest.raises(aiohttp.ClientConnectionError):
        await create(http, emu, body())
    assert (
        len(emu.tasks) == 1
    )  # the ambiguous case: the task exists although the client saw an error


async def test_reset_on_query(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.inject("reset_query", count=2)  # aiohttp retries an idempotent GET once after a reset
    with pytest.raises(aiohttp.ClientConnectionError):
        await query(http, emu, "x")
    assert (await query(http, emu, "x"))["output"]["task_status"] == "UNKNOWN"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("moderation_create", "DataInspectionFailed"),
        ("ip_infringement_create", "IPInfringementSuspect"),
    ],
)
async def test_moderation_at_create(
    emu: Emulator, http: aiohttp.ClientSession, kind: str, code: str
) -> None:
    emu.inject(kind)  # type: ignore[arg-type]  # parametrized literal
    status, got = await create(http, emu, body())
    assert (status, got["code"]) == (400, code)
    assert not emu.tasks


@pytest.mark.parametrize(
    ("kind", "options", "code"),
    [
        ("moderation_task", {}, "DataInspectionFailed"),
        ("ip_infringement_task", {}, "IPInfringementSuspect"),
        ("task_failure", {}, "InternalError.Algo"),
        (
            "task_failure",
            {"code": "InvalidParameter", "message": "The size is not match xxxxxx"},
            "InvalidParameter",
        ),
    ],
)
async def test_task_failures(
    emu: Emulator,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    kind: str,
    options: dict[str, str],
    code: str,
) -> None:
    emu.inject(kind, **options)  # type: ignore[arg-type]  # parametrized literal
    _, got = await create(http, emu, body())
    task_id = got["output"]["task_id"]
    assert (await query(http, emu, task_id))["output"]["task_status"] in ("PENDING", "RUNNING")
    clock.advance(1000)
    done = await query(http, emu, task_id)
    assert done["output"]["task_status"] == "FAILED"
    assert done["output"]["code"] == code
    assert done["output"]["message"] == options.get("message", done["output"]["message"])
    assert "video_url" not in done["output"] and "usage" not in done and "code" not in done


async def test_malformed_json(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.inject("malformed_create")
    url = emu.base_url + "/services/aigc/video-generation/video-synthesis"
    async with http.post(url, json=body(), headers={**AUTH, "X-DashScope-Async": "enable"}) as r:
        assert r.status == 200 and r.content_type == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(await r.text())
    assert len(emu.tasks) == 1
    emu.inject("malformed_query")
    async with http.get(f"{emu.base_url}/tasks/x", headers=AUTH) as r:
        with pytest.raises(json.JSONDecodeError):
            json.loads(await r.text())


async def test_latency_injection(emu: Emulator, http: aiohttp.ClientSession) -> None:
    emu.inject("latency", seconds=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _get_status(http, f"{emu.base_url}/tasks/x") == 200
    assert loop.time() - started >= 0.2


async def test_probabilistic_faults_are_seeded(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    outcomes = []
    for _ in range(2):
        emu = await make_emulator(
            seed=3, enforce_rate_limits=False, faults=FaultConfig(query_500=0.5)
        )
        outcomes.append([await _get_status(http, f"{emu.base_url}/tasks/x") for _ in range(16)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}


def test_fault_config_validation() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        FaultConfig(create_500=1.5)
    emu = Emulator()
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.inject("nope")  # type: ignore[arg-type]  # the point of the test
