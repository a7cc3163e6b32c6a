"""Header rules (§3) and the error body shape (§7.2)."""

from __future__ import annotations

import re

import aiohttp
import pytest

from emulator import Emulator
from tests.emulator.helpers import AUTH, KEY, EmulatorFactory, body, create

CREATE = "/services/aigc/video-generation/video-synthesis"


async def _error(resp: aiohttp.ClientResponse) -> dict[str, str]:
    assert resp.headers["Content-Type"].startswith("application/json")
    payload: dict[str, str] = await resp.json()
    assert set(payload) == {"request_id", "code", "message"}
    assert re.fullmatch(r"[0-9a-f-]{36}", payload["request_id"])
    return payload


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic x"}]
)
async def test_missing_key_is_401(
    emu: Emulator, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    async with http.post(
        emu.base_url + CREATE, json=body(), headers={**headers, "X-DashScope-Async": "enable"}
    ) as r:
        assert r.status == 401
        err = await _error(r)
    assert err["code"] == "InvalidApiKey"
    assert err["message"] == "No API-key provided."


async def test_wrong_key_is_401_when_key_configured(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(api_key=KEY)
    for path in (CREATE, "/tasks/abc", "/tasks", "/uploads?action=getPolicy&model=m"):
        method = http.post if path == CREATE else http.get
        async with method(emu.base_url + path, headers={"Authorization": "Bearer sk-other"}) as r:
            assert r.status == 401
            assert (await _error(r))["message"] == "Invalid API-key provided."
    status, _ = await create(http, emu, body())
    assert status == 200


async def test_any_key_accepted_without_configured_key(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, _ = await create(
        http, emu, body(), {"Authorization": "Bearer whatever", "X-DashScope-Async": "enable"}
    )
    assert status == 200


async def test_missing_async_header_is_403(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(emu.base_url + CREATE, json=body(), headers=AUTH) as r:
        assert r.status == 403
        err = await _error(r)
    assert err == {
        **err,
        "code": "AccessDenied",
        "message": "current user api does not support synchronous calls.",
    }
    assert not emu.tasks


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b""])
async def test_non_json_body_is_illegal_input(
    emu: Emulator, http: aiohttp.ClientSession, raw: bytes
) -> None:
    headers = {**AUTH, "X-DashScope-Async": "enable", "Content-Type": "application/json"}
    async with http.post(emu.base_url + CREATE, data=raw, headers=headers) as r:
        assert r.status == 400
        err = await _error(r)
    assert err["code"] == "BadRequest.IllegalInput"
    assert err["message"] == "The input parameter requires json format."


async def test_unknown_route_is_json_404(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get(emu.base_url + "/nope", headers=AUTH) as r:
        assert r.status == 404
        assert (await _error(r))["code"] == "NotFound"


async def test_kf2v_endpoint_rejects_i2v_models(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = emu.base_url + "/services/aigc/image2video/video-synthesis"
    headers = {**AUTH, "X-DashScope-Async": "enable"}
    async with http.post(url, json=body("wan2.5-i2v-preview"), headers=headers) as r:
        assert r.status == 400
        assert (await _error(r))["message"] == "url error, please check url!"


async def test_request_log_never_keeps_the_key(emu: Emulator, http: aiohttp.ClientSession) -> None:
    await create(http, emu, body())
    record = emu.request_log[-1]
    assert record.method == "POST" and record.path.endswith(CREATE)
    assert record.headers["Authorization"] == "<redacted>"
    assert KEY not in repr(emu.request_log)
    assert record.json["model"] == "wan2.2-i2v-flash"
