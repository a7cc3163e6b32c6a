"""Task endpoints: query variants, cancel, expiry, concurrency, usage shapes and the list API."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator import Emulator
from tests.emulator.helpers import AUTH, PNG_URI, EmulatorFactory, FakeClock, body, create, query


async def _task(
    http: aiohttp.ClientSession, emu: Emulator, payload: dict[str, Any] | None = None
) -> str:
    status, got = await create(http, emu, payload or body())
    assert status == 200, got
    task_id: str = got["output"]["task_id"]
    return task_id


async def test_query_trailing_slash_and_query_string(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    task_id = await _task(http, emu)
    for suffix in ("", "/", "/?duration=10&prompt_extend=true&resolution=480P"):
        async with http.get(f"{emu.base_url}/tasks/{task_id}{suffix}", headers=AUTH) as r:
            assert r.status == 200
            assert (await r.json())["output"]["task_id"] == task_id


async def test_unknown_id_is_200_unknown(emu: Emulator, http: aiohttp.ClientSession) -> None:
    got = await query(http, emu, "00000000-0000-0000-0000-000000000000")
    assert got["output"] == {
        "task_id": "00000000-0000-0000-0000-000000000000",
        "task_status": "UNKNOWN",
    }


async def test_unknown_after_scaled_expiry(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(time_scale=0.01)
    task_id = await _task(http, emu)
    clock.advance(86400 * 0.01 - 1)
    assert (await query(http, emu, task_id))["output"]["task_status"] == "SUCCEEDED"
    clock.advance(1)
    assert (await query(http, emu, task_id))["output"]["task_status"] == "UNKNOWN"


@pytest.mark.parametrize("suffix", ["cancel", "cancel/"])
async def test_cancel_only_from_pending(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock, suffix: str
) -> None:
    emu = await make_emulator(queue_delay=10.0)
    task_id = await _task(http, emu)
    aio_body = {"model": "", "parameters": {}, "input": ""}  # what AioVideoSynthesis.cancel sends
    async with http.post(
        f"{emu.base_url}/tasks/{task_id}/{suffix}", json=aio_body, headers=AUTH
    ) as r:
        assert r.status == 200
        assert set(await r.json()) == {"request_id"}
    assert (await query(http, emu, task_id))["output"]["task_status"] == "CANCELED"
    clock.advance(1000)
    assert (await query(http, emu, task_id))["output"]["task_status"] == "CANCELED"
    running = await _task(http, emu)
    clock.advance(11)
    assert (await query(http, emu, running))["output"]["task_status"] == "RUNNING"
    for target in (task_id, running, "no-such-task"):
        async with http.post(f"{emu.base_url}/tasks/{target}/{suffix}", headers=AUTH) as r:
            assert r.status == 400
            assert (await r.json())["code"] == "UnsupportedOperation"


async def test_concurrency_queue_mode(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(durations={"wan2.2-i2v-flash": 100.0}, enforce_rate_limits=False)
    ids = [await _task(http, emu) for _ in range(3)]  # wan2.2: concurrency 2
    clock.advance(1)
    states = [(await query(http, emu, i))["output"]["task_status"] for i in ids]
    assert states == ["RUNNING", "RUNNING", "PENDING"]
    clock.advance(100)
    states = [(await query(http, emu, i))["output"]["task_status"] for i in ids]
    assert states == ["SUCCEEDED", "SUCCEEDED", "RUNNING"]
    third = emu.tasks[ids[2]]
    assert third.started_at == pytest.approx(third.created + 100)
    clock.advance(100)
    assert (await query(http, emu, ids[2]))["output"]["task_status"] == "SUCCEEDED"


async def test_concurrency_reject_mode(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(
        concurrency_mode="reject", enforce_rate_limits=False, durations={"wan2.2-i2v-flash": 50.0}
    )
    await _task(http, emu)
    await _task(http, emu)
    status, got = await create(http, emu, body())
    assert (status, got["code"]) == (429, "Throttling")
    clock.advance(51)
    assert (await create(http, emu, body()))[0] == 200


@pytest.mark.parametrize(
    ("payload", "usage", "actual_prompt"),
    [
        (
            body("wan2.6-i2v-flash", duration=3, resolution="720P", audio=False),
            {
                "duration": 3,
                "input_video_duration": 0,
                "output_video_duration": 3,
                "SR": 720,
                "video_count": 1,
                "audio": False,
            },
            False,
        ),
        (
            body("wan2.6-i2v", duration=4, resolution="720P"),
            {
                "duration": 4,
                "input_video_duration": 0,
                "output_video_duration": 4,
                "SR": 720,
                "video_count": 1,
            },
            False,
        ),
        (
            body("wan2.5-i2v-preview", duration=10, resolution="480P"),
            {"duration": 10, "SR": 480, "video_count": 1},
            True,
        ),
        (
            body("wanx2.1-i2v-turbo", duration=3),
            {"video_duration": 3, "video_ratio": "standard", "video_count": 1},
            True,
        ),
        (
            body("wan2.2-i2v-plus", prompt_extend=False),
            {"duration": 5, "SR": 1080, "video_count": 1},
            False,
        ),
    ],
)
async def test_succeeded_output_per_generation(
    emu: Emulator,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    payload: dict[str, Any],
    usage: dict[str, Any],
    actual_prompt: bool,
) -> None:
    task_id = await _task(http, emu, payload)
    clock.advance(1000)
    got = await query(http, emu, task_id)
    assert got["usage"] == usage
    assert ("actual_prompt" in got["output"]) is actual_prompt
    assert got["output"]["video_url"].startswith(emu.origin)


async def test_pending_and_running_shapes(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(queue_delay=5.0)
    task_id = await _task(http, emu)
    pending = await query(http, emu, task_id)
    assert set(pending["output"]) == {"task_id", "task_status", "submit_time"}
    assert "usage" not in pending
    clock.advance(6)
    running = await query(http, emu, task_id)
    assert set(running["output"]) == {"task_id", "task_status", "submit_time", "scheduled_time"}


async def test_lognormal_durations_are_seeded(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    runs = []
    for _ in range(2):
        emu = await make_emulator(duration_sigma=0.5, seed=42, time_scale=0.5)
        ids = [await _task(http, emu, body("wan2.6-i2v")) for _ in range(3)]
        runs.append([emu.tasks[i].run_seconds for i in ids])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 3
    assert all(10 < r < 500 for r in runs[0])  # median 180 s × 0.5


async def _list(http: aiohttp.ClientSession, emu: Emulator, **params: str) -> dict[str, Any]:
    async with http.get(
        emu.base_url + "/tasks", params={"page_no": "1", "page_size": "10", **params}, headers=AUTH
    ) as r:
        assert r.status == 200, await r.text()
        result: dict[str, Any] = await r.json()
        return result


async def test_list_shape_paging_and_filters(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu = await make_emulator(enforce_rate_limits=False, queue_delay=10.0)
    first = await _task(http, emu, body("wan2.6-i2v"))
    clock.advance(3600)
    later = [await _task(http, emu, body("wan2.2-i2v-flash")) for _ in range(3)]
    got = await _list(http, emu, page_size="2")
    assert (got["total"], got["total_page"], got["page_no"], got["page_size"]) == (4, 2, 1, 2)
    assert [row["task_id"] for row in got["data"]] == [later[2], later[1]]
    row = got["data"][0]
    assert {
        "api_key_id",
        "gmt_create",
        "model_name",
        "region",
        "status",
        "task_id",
        "end_time",
    } <= set(row)
    assert row["gmt_create"] == int(clock.now * 1000)
    page2 = await _list(http, emu, page_size="2", page_no="2")
    assert [r["task_id"] for r in page2["data"]] == [later[0], first]
    assert [r["task_id"] for r in (await _list(http, emu, model_name="wan2.6-i2v"))["data"]] == [
        first
    ]
    assert (await _list(http, emu, status="PENDING"))["total"] == 3
    assert (await _list(http, emu, status="SUCCEEDED"))["total"] == 1
    # 2026-01-01 08:30:00 in UTC+8 is 00:30 UTC: only the later tasks are after it.
    assert (await _list(http, emu, start_time="20260101083000"))["total"] == 3
    assert (await _list(http, emu, end_time=str(int((clock.now - 60) * 1000))))["total"] == 1
    empty = await _list(http, emu, model_name="wan2.5-i2v-preview")
    assert (empty["data"], empty["total"]) == ([], 0)
    async with http.get(emu.base_url + "/tasks", params={"page_no": "0"}, headers=AUTH) as r:
        assert r.status == 400


async def test_list_alias_option(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(list_tasks_alias=True)
    await _task(http, emu)
    got = await _list(http, emu)
    assert got["tasks"] == got["data"] and len(got["data"]) == 1


async def test_tasks_view_keeps_request_body(emu: Emulator, http: aiohttp.ClientSession) -> None:
    task_id = await _task(
        http, emu, {"model": "wan2.6-i2v", "input": {"img_url": PNG_URI, "function": "x"}}
    )
    view = emu.tasks[task_id]
    assert view.request_body["input"]["function"] == "x"
    assert view.status == "PENDING" or view.status == "RUNNING"
    with pytest.raises(TypeError):
        emu.tasks[task_id] = view  # type: ignore[index]  # the mapping is read-only on purpose
