"""Per-region catalogs (§1.1), documented hosts (§1) and the Host header selecting a region."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator import REGION_HOSTS, REGIONS, Emulator, EmulatorConfig, catalog
from emulator._regions import host_info
from tests.emulator.helpers import ASYNC, PNG_URI, EmulatorFactory, create, data_uri, solid_png

FRAME = data_uri(solid_png((200, 0, 0)))


def _i2v(model: str, **params: Any) -> dict[str, Any]:
    return {"model": model, "input": {"img_url": PNG_URI}, "parameters": params}


def _media(model: str, **params: Any) -> dict[str, Any]:
    media = [{"type": "first_frame", "url": FRAME}]
    return {"model": model, "input": {"media": media}, "parameters": params}


@pytest.mark.parametrize(
    ("region", "payload", "ok"),
    [
        ("eu-central-1", _i2v("wan2.6-i2v", duration=10, resolution="720P"), True),
        ("eu-central-1", _i2v("wan2.6-i2v", duration=7), False),
        ("eu-central-1", _i2v("wan2.6-i2v-flash"), False),
        ("eu-central-1", _i2v("wan2.6-i2v-us"), False),
        ("eu-central-1", _media("wan2.7-i2v"), False),
        ("eu-central-1", _i2v("wan2.5-i2v-preview"), False),
        ("eu-central-1", _media("wan3.0-video"), True),
        ("us-east-1", _i2v("wan2.6-i2v", duration=7), False),
        ("us-east-1", _i2v("wan2.6-i2v", duration=15), True),
        ("us-east-1", _i2v("wan2.6-i2v-us", duration=5), True),
        ("us-east-1", _i2v("wan2.6-i2v-us", duration=7), False),
        ("us-east-1", _media("wan2.7-i2v"), False),
        ("us-east-1", _i2v("wan2.2-i2v-flash"), False),
        ("ap-southeast-1", _i2v("wan2.6-i2v", duration=7), True),
        ("ap-southeast-1", _media("wan2.7-i2v-2026-04-25"), True),
        ("ap-southeast-1", _i2v("wan2.2-i2v-flash", resolution="1080P"), True),
        ("cn-beijing", _i2v("wan2.6-i2v", duration=7), True),
        ("cn-beijing", _i2v("wan2.6-i2v-us"), False),
        ("ap-northeast-1", _i2v("wan2.6-i2v"), False),
        ("ap-northeast-1", _media("wan3.0-video"), True),
        ("cn-hongkong", _media("wan2.7-i2v"), False),
        ("cn-hongkong", _media("wan3.0-video-prime"), True),
    ],
)
async def test_region_refusals(
    make_emulator: EmulatorFactory,
    http: aiohttp.ClientSession,
    region: str,
    payload: dict[str, Any],
    ok: bool,
) -> None:
    emu = await make_emulator(region=region)
    status, got = await create(http, emu, payload)
    assert (status == 200) is ok, got
    if not ok:
        assert got["code"] == "InvalidParameter"
        assert got["message"] == "Model not exist." or region in got["message"]


@pytest.mark.parametrize(
    ("overrides", "region", "payload", "ok"),
    [
        ({"de_wan26_durations": "2-15"}, "eu-central-1", _i2v("wan2.6-i2v", duration=7), True),
        ({"us_wan27": True}, "us-east-1", _media("wan2.7-i2v"), True),
        (
            {"sg_wan22_flash": "no-1080p"},
            "ap-southeast-1",
            _i2v("wan2.2-i2v-flash", resolution="1080P"),
            False,
        ),
        (
            {"sg_wan22_flash": "no-1080p"},
            "ap-southeast-1",
            _i2v("wan2.2-i2v-flash", resolution="720P"),
            True,
        ),
        ({"sg_wan22_flash": "no"}, "ap-southeast-1", _i2v("wan2.2-i2v-flash"), False),
    ],
)
async def test_uncertain_region_switches(
    make_emulator: EmulatorFactory,
    http: aiohttp.ClientSession,
    overrides: dict[str, Any],
    region: str,
    payload: dict[str, Any],
    ok: bool,
) -> None:
    emu = await make_emulator(region=region, **overrides)
    status, got = await create(http, emu, payload)
    assert (status == 200) is ok, got


def test_catalogs() -> None:
    frankfurt = catalog("eu-central-1")
    assert set(frankfurt) == {"wan2.6-i2v", "wan3.0-video", "wan3.0-video-prime"}
    assert frankfurt["wan2.6-i2v"].durations == frozenset({5, 10, 15})
    assert frankfurt["wan2.6-i2v"].resolutions == ("720P", "1080P")
    assert (frankfurt["wan2.6-i2v"].submit_rps, frankfurt["wan2.6-i2v"].concurrency) == (5, 5)
    virginia = catalog("us-east-1")
    assert set(virginia) == {"wan2.6-i2v", "wan2.6-i2v-us", "wan3.0-video", "wan3.0-video-prime"}
    singapore = catalog("ap-southeast-1")
    kf2v = {m: e for m, e in singapore.items() if e.family == "kf2v"}
    assert set(kf2v) == {"wan2.1-kf2v-plus"}
    assert (kf2v["wan2.1-kf2v-plus"].submit_rps, kf2v["wan2.1-kf2v-plus"].path_task) == (
        1,
        "image2video",
    )
    assert "wanx2.1-i2v-plus" not in singapore and "wan2.1-i2v-plus" in singapore
    beijing = catalog("cn-beijing")
    assert {m for m, e in beijing.items() if e.family == "kf2v"} == {
        "wan2.2-kf2v-flash",
        "wanx2.1-kf2v-plus",
    }
    assert beijing["wan2.7-i2v"].durations == frozenset(range(2, 16))
    assert beijing["wan3.0-video"].durations == frozenset(range(2, 31))
    for region in ("ap-northeast-1", "cn-hongkong"):
        assert set(catalog(region)) == {"wan3.0-video", "wan3.0-video-prime"}
    assert "wan2.7-i2v" in catalog("us-east-1", EmulatorConfig(us_wan27=True))
    tight = EmulatorConfig(model_limits={"wan3.0-video": (1, 2)})
    assert (catalog("cn-beijing", tight)["wan3.0-video"].submit_rps) == 1


def test_documented_hosts_parse_back_to_their_region() -> None:
    assert set(REGION_HOSTS) == set(REGIONS) - {"any"}
    for region, hosts in REGION_HOSTS.items():
        assert any("{WorkspaceId}" in url for url in hosts.base_urls), region
        for url in hosts.base_urls + hosts.uncertain_base_urls:
            assert url.startswith("https://") and url.endswith("/api/v1")
            host = (
                url.removeprefix("https://")
                .removesuffix("/api/v1")
                .replace("{WorkspaceId}", "ws-1")
            )
            info = host_info(host)
            assert info is not None and info.region == region, url
    assert REGION_HOSTS["eu-central-1"].base_urls == (
        "https://{WorkspaceId}.eu-central-1.maas.aliyuncs.com/api/v1",
    )
    assert "https://dashscope-intl.aliyuncs.com/api/v1" in REGION_HOSTS["ap-southeast-1"].base_urls
    assert host_info("127.0.0.1:8089") is None and host_info("ws.mars-1.maas.aliyuncs.com") is None


async def _create_via(
    http: aiohttp.ClientSession, emu: Emulator, host: str, payload: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return await create(http, emu, payload, headers={**ASYNC, "Host": host})


async def test_host_header_selects_the_region(emu: Emulator, http: aiohttp.ClientSession) -> None:
    frankfurt = "ws-1.eu-central-1.maas.aliyuncs.com"
    status, got = await _create_via(http, emu, frankfurt, _media("wan2.7-i2v"))
    assert (status, got["message"]) == (400, "Model not exist.")
    status, got = await _create_via(http, emu, frankfurt, _i2v("wan2.6-i2v", duration=7))
    assert status == 400 and "duration" in got["message"]
    assert (await _create_via(http, emu, "dashscope.aliyuncs.com", _media("wan2.7-i2v")))[0] == 200
    status, got = await _create_via(
        http, emu, "trial.ap-southeast-1.maas.aliyuncs.com", _i2v("wanx2.1-i2v-plus")
    )
    assert status == 400  # the Beijing id does not exist in Singapore
    status, got = await _create_via(
        http, emu, "dashscope-intl.aliyuncs.com:443", _i2v("wan2.1-i2v-plus")
    )
    assert status == 200, got
    assert emu.tasks[got["output"]["task_id"]].spec.region == "ap-southeast-1"


async def test_pinned_region_and_workspace(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(region="cn-beijing", workspace_id="ws-1")
    status, got = await _create_via(
        http, emu, "ws-1.eu-central-1.maas.aliyuncs.com", _i2v("wan2.6-i2v")
    )
    assert (status, got["code"], got["message"]) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )
    status, got = await _create_via(
        http, emu, "ws-2.cn-beijing.maas.aliyuncs.com", _i2v("wan2.6-i2v")
    )
    assert (status, got["code"]) == (401, "NOT AUTHORIZED")
    assert (await _create_via(http, emu, "ws-1.cn-beijing.maas.aliyuncs.com", _i2v("wan2.6-i2v")))[
        0
    ] == 200
    async with http.get(
        f"{emu.base_url}/tasks/x", headers={**ASYNC, "Host": "ws-2.cn-beijing.maas.aliyuncs.com"}
    ) as r:
        assert r.status == 401  # queries are bound the same way
    ignoring = await make_emulator(region="cn-beijing", region_from_host=False)
    assert (
        await _create_via(
            http, ignoring, "ws-1.eu-central-1.maas.aliyuncs.com", _i2v("wan2.6-i2v", duration=7)
        )
    )[0] == 200
