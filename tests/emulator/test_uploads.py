"""Temporary file upload (§11): getPolicy, the OSS form POST, oss:// resolution and expiry."""

from __future__ import annotations

import io

import aiohttp

from emulator import Emulator
from tests.emulator.helpers import (
    ASYNC,
    AUTH,
    EmulatorFactory,
    FakeClock,
    create,
    image_bytes,
    upload,
    wav_bytes,
)

PNG = image_bytes(400, 300)


def _payload(model: str, img_url: str, **extra: str) -> dict[str, object]:
    return {"model": model, "input": {"prompt": "p", "img_url": img_url, **extra}}


async def test_policy_shape(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get(
        emu.base_url + "/uploads?action=getPolicy&model=wan2.6-i2v", headers=AUTH
    ) as r:
        assert r.status == 200
        got = await r.json()
    data = got["data"]
    assert {
        "policy",
        "signature",
        "upload_dir",
        "upload_host",
        "expire_in_seconds",
        "max_file_size_mb",
        "capacity_limit_mb",
        "oss_access_key_id",
        "x_oss_object_acl",
        "x_oss_forbid_overwrite",
    } == set(data)
    assert data["upload_host"].startswith(emu.origin)
    assert data["upload_dir"].startswith("dashscope-instant/")
    assert data["expire_in_seconds"] == 300
    async with http.get(emu.base_url + "/uploads?action=nope&model=m", headers=AUTH) as r:
        assert r.status == 400


async def test_upload_then_create_with_resolve_header(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, url = await upload(http, emu, "wan2.2-i2v-flash", "cat.png", PNG, "image/png")
    assert status == 200
    stored = emu.uploads[url.removeprefix("oss://")]
    assert (
        stored.data == PNG
        and stored.content_type == "image/png"
        and stored.model == "wan2.2-i2v-flash"
    )
    assert emu.request_log[-1].json["x-oss-content-type"] == "image/png"
    status, got = await create(http, emu, _payload("wan2.2-i2v-flash", url))
    assert (status, got["code"]) == (400, "InvalidParameter.DataInspection")
    status, got = await create(
        http,
        emu,
        _payload("wan2.2-i2v-flash", url),
        {**ASYNC, "X-DashScope-OssResourceResolve": "enable"},
    )
    assert status == 200, got
    spec = emu.tasks[got["output"]["task_id"]].spec
    assert spec.image == PNG and (spec.width, spec.height) == (1104, 816)


async def test_oss_url_must_match_model_and_exist(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    _, url = await upload(http, emu, "wan2.6-i2v", "cat.png", PNG, "image/png")
    headers = {**ASYNC, "X-DashScope-OssResourceResolve": "enable"}
    for model, ref in (("wan2.2-i2v-flash", url), ("wan2.6-i2v", url + "x")):
        status, got = await create(http, emu, _payload(model, ref), headers)
        assert (status, got["code"]) == (400, "InvalidParameter.DataInspection"), (model, ref)


async def test_expired_policy_is_403(
    emu: Emulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with http.get(
        emu.base_url + "/uploads?action=getPolicy&model=wan2.6-i2v", headers=AUTH
    ) as r:
        policy = (await r.json())["data"]
    clock.advance(301)
    form = aiohttp.FormData()
    form.add_field("OSSAccessKeyId", policy["oss_access_key_id"])
    form.add_field("Signature", policy["signature"])
    form.add_field("policy", policy["policy"])
    form.add_field("key", policy["upload_dir"] + "/a.png")
    form.add_field("file", io.BytesIO(PNG), filename="a.png")
    async with http.post(policy["upload_host"], data=form) as r:
        assert r.status == 403
        text = await r.text()
    assert "<Code>AccessDenied</Code>" in text
    assert "Invalid according to Policy: Policy expired." in text
    assert not emu.uploads


async def test_tampered_signature_and_foreign_key(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        emu.base_url + "/uploads?action=getPolicy&model=wan2.6-i2v", headers=AUTH
    ) as r:
        policy = (await r.json())["data"]
    for signature, key, code in (
        ("AAAA", policy["upload_dir"] + "/a.png", "SignatureDoesNotMatch"),
        (policy["signature"], "dashscope-instant/other/a.png", "AccessDenied"),
    ):
        form = aiohttp.FormData()
        form.add_field("OSSAccessKeyId", policy["oss_access_key_id"])
        form.add_field("Signature", signature)
        form.add_field("policy", policy["policy"])
        form.add_field("key", key)
        form.add_field("file", io.BytesIO(PNG), filename="a.png")
        async with http.post(policy["upload_host"], data=form) as r:
            assert r.status == 403
            assert f"<Code>{code}</Code>" in await r.text()


async def test_uploaded_audio_is_checked(emu: Emulator, http: aiohttp.ClientSession) -> None:
    headers = {**ASYNC, "X-DashScope-OssResourceResolve": "enable"}
    _, img = await upload(http, emu, "wan2.5-i2v-preview", "a.png", PNG, "image/png")
    _, short = await upload(
        http, emu, "wan2.5-i2v-preview", "short.wav", wav_bytes(1.0), "audio/wav"
    )
    status, got = await create(
        http, emu, _payload("wan2.5-i2v-preview", img, audio_url=short), headers
    )
    assert (status, got["code"]) == (400, "InvalidURL")
    _, junk = await upload(http, emu, "wan2.5-i2v-preview", "junk.mp3", b"junk" * 100, "audio/mpeg")
    status, got = await create(
        http, emu, _payload("wan2.5-i2v-preview", img, audio_url=junk), headers
    )
    assert (status, got["code"]) == (400, "InvalidURL")
    _, good = await upload(http, emu, "wan2.5-i2v-preview", "ok.wav", wav_bytes(3.5), "audio/wav")
    status, got = await create(
        http, emu, _payload("wan2.5-i2v-preview", img, audio_url=good), headers
    )
    assert status == 200, got
    assert emu.tasks[got["output"]["task_id"]].spec.audio is not None


async def test_policy_rate_limit(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(policy_qps=2)
    statuses = []
    for _ in range(3):
        async with http.get(
            emu.base_url + "/uploads?action=getPolicy&model=wan2.6-i2v", headers=AUTH
        ) as r:
            statuses.append(r.status)
    assert statuses == [200, 200, 429]
