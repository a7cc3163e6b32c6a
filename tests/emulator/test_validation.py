"""Per-model validation of create requests (§4, §5, §6, §13)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator import Emulator
from tests.emulator.helpers import PNG_URI, EmulatorFactory, create, data_uri, image_bytes


def _body(model: str, inp: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    return {
        "model": model,
        "input": {"prompt": "p", "img_url": PNG_URI, **(inp or {})},
        "parameters": params,
    }


async def _expect(
    http: aiohttp.ClientSession,
    emu: Emulator,
    payload: Any,
    status: int = 400,
    code: str = "InvalidParameter",
) -> dict[str, Any]:
    got_status, got = await create(http, emu, payload)
    assert (got_status, got.get("code")) == (status, code), got
    return got


@pytest.mark.parametrize(
    ("model", "resolution"),
    [
        ("wan2.6-i2v-flash", "480P"),
        ("wan2.6-i2v", "480P"),
        ("wan2.2-i2v-plus", "720P"),
        ("wanx2.1-i2v-plus", "480P"),
        ("wanx2.1-i2v-plus", "1080P"),
        ("wanx2.1-i2v-turbo", "1080P"),
        ("wan2.5-i2v-preview", "4K"),
    ],
)
async def test_bad_resolution(
    emu: Emulator, http: aiohttp.ClientSession, model: str, resolution: str
) -> None:
    err = await _expect(http, emu, _body(model, resolution=resolution))
    assert "resolution" in err["message"]


@pytest.mark.parametrize(
    ("model", "duration"),
    [
        ("wan2.6-i2v-flash", 1),
        ("wan2.6-i2v-flash", 16),
        ("wan2.5-i2v-preview", 7),
        ("wan2.2-i2v-flash", 10),
        ("wanx2.1-i2v-plus", 3),
        ("wanx2.1-i2v-turbo", 2),
        ("wan2.6-i2v", "5"),
        ("wan2.6-i2v", 5.5),
        ("wan2.6-i2v", True),
    ],
)
async def test_bad_duration(
    emu: Emulator, http: aiohttp.ClientSession, model: str, duration: object
) -> None:
    err = await _expect(http, emu, _body(model, duration=duration))
    assert "duration" in err["message"]


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("wan2.6-i2v-flash", {"duration": 2, "resolution": "720P"}),
        ("wan2.6-i2v-flash", {"duration": 15, "resolution": "1080P", "audio": False}),
        ("wan2.6-i2v", {"duration": 7}),
        ("wan2.5-i2v-preview", {"duration": 10, "resolution": "480P"}),
        ("wan2.2-i2v-plus", {"resolution": "480P"}),
        ("wanx2.1-i2v-turbo", {"duration": 3, "resolution": "480P"}),
        ("wan2.1-i2v-turbo", {"duration": 4}),
        ("wan2.1-i2v-plus", {}),
        (
            "wan2.6-i2v-flash",
            {"seed": 0, "watermark": True, "prompt_extend": False, "shot_type": "multi"},
        ),
        ("wan2.2-i2v-flash", {"seed": 2147483647, "audio": True}),  # audio ignored leniently
    ],
)
async def test_valid_combinations_are_accepted(
    emu: Emulator, http: aiohttp.ClientSession, model: str, params: dict[str, Any]
) -> None:
    status, got = await create(http, emu, _body(model, **params))
    assert status == 200, got
    assert emu.tasks[got["output"]["task_id"]].model == model


@pytest.mark.parametrize("seed", [-1, 2147483648, "1", 1.5])
async def test_seed_range(emu: Emulator, http: aiohttp.ClientSession, seed: object) -> None:
    await _expect(http, emu, _body("wan2.6-i2v", seed=seed))


async def test_unknown_keys_null_prompt_and_absent_parameters(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    payload = {
        "model": "wan2.5-i2v-preview",
        "input": {
            "prompt": None,
            "img_url": PNG_URI,
            "extend_prompt": True,
            "function": "video-synthesis",
        },
    }
    status, got = await create(http, emu, payload)
    assert status == 200, got
    status, got = await create(http, emu, {**payload, "parameters": {}})
    assert status == 200, got
    assert emu.tasks[got["output"]["task_id"]].spec.prompt is None


async def test_prompt_is_truncated_not_rejected(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, got = await create(
        http, emu, _body("wan2.2-i2v-flash", {"prompt": "x" * 5000, "negative_prompt": "n" * 900})
    )
    assert status == 200
    spec = emu.tasks[got["output"]["task_id"]].spec
    assert spec.prompt == "x" * 800 and spec.negative_prompt == "n" * 500
    status, got = await create(http, emu, _body("wan2.6-i2v", {"prompt": "y" * 5000}))
    assert emu.tasks[got["output"]["task_id"]].spec.prompt == "y" * 1500


@pytest.mark.parametrize("model", ["wan2.2-i2v-plus", "wanx2.1-i2v-turbo"])
async def test_audio_url_only_on_wan25_and_wan26(
    emu: Emulator, http: aiohttp.ClientSession, model: str
) -> None:
    err = await _expect(http, emu, _body(model, {"audio_url": "https://example.com/a.mp3"}))
    assert "audio_url" in err["message"]


async def test_audio_url_accepted_on_wan25(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, _ = await create(
        http, emu, _body("wan2.5-i2v-preview", {"audio_url": "https://example.com/a.mp3"})
    )
    assert status == 200


async def test_audio_param(make_emulator: EmulatorFactory, http: aiohttp.ClientSession) -> None:
    lenient = await make_emulator()
    await _expect(http, lenient, _body("wan2.6-i2v-flash", audio="yes"))
    status, got = await create(http, lenient, _body("wan2.6-i2v-flash", audio=False))
    assert status == 200 and not lenient.tasks[got["output"]["task_id"]].spec.has_audio
    status, got = await create(http, lenient, _body("wan2.5-i2v-preview", audio=False))
    assert status == 200 and lenient.tasks[got["output"]["task_id"]].spec.has_audio
    strict = await make_emulator(strict_audio_param=True)
    await _expect(http, strict, _body("wan2.5-i2v-preview", audio=False))


@pytest.mark.parametrize(
    ("model", "template", "ok"),
    [
        ("wanx2.1-i2v-plus", "flying", True),
        ("wanx2.1-i2v-plus", "dance3", True),
        ("wanx2.1-i2v-turbo", "hug", True),
        ("wanx2.1-i2v-turbo", "dance3", False),
        ("wanx2.1-i2v-turbo", "melt", False),
        ("wan2.1-i2v-turbo", "flying", True),
        ("wanx2.1-i2v-plus", "hanfu-1", False),
        ("wan2.6-i2v", "flying", False),
        ("wan2.2-i2v-plus", "flying", False),
    ],
)
async def test_templates(
    emu: Emulator, http: aiohttp.ClientSession, model: str, template: str, ok: bool
) -> None:
    payload = {"model": model, "input": {"prompt": None, "img_url": PNG_URI, "template": template}}
    status, got = await create(http, emu, payload)
    assert (status == 200) is ok, got
    if not ok:
        assert got["code"] == "InvalidParameter" and "template" in got["message"]


async def test_template_on_singapore_ids_can_be_strict(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(templates_on_singapore_ids=False)
    await _expect(
        http, emu, {"model": "wan2.1-i2v-plus", "input": {"img_url": PNG_URI, "template": "flying"}}
    )


async def test_missing_model_input_and_image(emu: Emulator, http: aiohttp.ClientSession) -> None:
    await _expect(http, emu, {"input": {"img_url": PNG_URI}}, code="BadRequest.EmptyModel")
    await _expect(http, emu, {"model": "wan2.6-i2v"}, code="BadRequest.EmptyInput")
    await _expect(http, emu, {"model": "wan2.6-i2v", "input": {"prompt": "p"}})
    await _expect(
        http, emu, {"model": "wan2.6-i2v", "input": {"img_url": PNG_URI}, "parameters": [1]}
    )


async def test_unknown_model(make_emulator: EmulatorFactory, http: aiohttp.ClientSession) -> None:
    emu = await make_emulator()
    err = await _expect(http, emu, _body("wan9-i2v"))
    assert err["message"] == "Model not exist."
    emu404 = await make_emulator(unknown_model_404=True)
    await _expect(http, emu404, _body("wan9-i2v"), status=404, code="ModelNotFound")


async def test_strict_region(make_emulator: EmulatorFactory, http: aiohttp.ClientSession) -> None:
    sg = await make_emulator(region="ap-southeast-1")
    await _expect(http, sg, _body("wanx2.1-i2v-plus"))
    assert (await create(http, sg, _body("wan2.1-i2v-plus")))[0] == 200
    us = await make_emulator(region="us-east-1")
    await _expect(http, us, _body("wan2.6-i2v", duration=7))
    assert (await create(http, us, _body("wan2.6-i2v", duration=10)))[0] == 200


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("JPEG", "image/jpeg"), ("BMP", "image/bmp"), ("WEBP", "image/webp"), ("PNG", "image/png")],
)
async def test_image_formats_accepted(
    emu: Emulator, http: aiohttp.ClientSession, fmt: str, mime: str
) -> None:
    uri = data_uri(image_bytes(300, 260, fmt), mime)
    status, got = await create(http, emu, _body("wan2.2-i2v-flash", {"img_url": uri}))
    assert status == 200, got


@pytest.mark.parametrize(
    ("img_url", "code"),
    [
        (data_uri(image_bytes(300, 300, "PNG", "RGBA")), "InvalidParameter"),  # alpha
        (data_uri(image_bytes(200, 300)), "InvalidParameter"),  # below 240 px
        (
            data_uri(image_bytes(8100, 240, "JPEG"), "image/jpeg"),
            "InvalidParameter",
        ),  # above 8000 px
        (data_uri(image_bytes(300, 300, "GIF"), "image/gif"), "InvalidParameter"),
        (
            data_uri(image_bytes(300, 300, "GIF"), "image/png"),
            "InvalidParameter",
        ),  # lies about type
        (data_uri(b"not an image"), "InvalidParameter.DataInspection"),
        ("data:image/png;base64,@@@", "InvalidParameter"),
        (PNG_URI.removeprefix("data:image/png;base64,"), "InvalidParameter"),  # bare base64
        ("ftp://example.com/a.png", "InvalidParameter"),
    ],
)
async def test_bad_images(
    emu: Emulator, http: aiohttp.ClientSession, img_url: str, code: str
) -> None:
    await _expect(http, emu, _body("wan2.2-i2v-flash", {"img_url": img_url}), code=code)


async def test_image_byte_limit_per_model_and_strict_2025(
    make_emulator: EmulatorFactory, http: aiohttp.ClientSession
) -> None:
    emu = await make_emulator()
    big = image_bytes(2100, 400, "BMP")  # ~2.5 MB, 2100 px wide
    assert (await create(http, emu, _body("wan2.6-i2v", {"img_url": data_uri(big, "image/bmp")})))[
        0
    ] == 200
    strict = await make_emulator(strict_2025_images=True)
    err = await _expect(http, strict, _body("wan2.6-i2v", {"img_url": data_uri(big, "image/bmp")}))
    assert "2000" in err["message"]


async def test_http_image_is_accepted_without_fetching(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, got = await create(
        http, emu, _body("wan2.6-i2v", {"img_url": "https://203.0.113.9/cat.png"})
    )
    assert status == 200
    spec = emu.tasks[got["output"]["task_id"]].spec
    assert spec.image is None and (spec.width, spec.height) == (1920, 1072)


async def test_image_byte_limit_depends_on_generation(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    uri = data_uri(image_bytes(1900, 1900, "BMP"), "image/bmp")  # ~10.8 MB: over 10 MB, under 20 MB
    err = await _expect(http, emu, _body("wan2.2-i2v-flash", {"img_url": uri}))
    assert "exceeds" in err["message"]
    assert (await create(http, emu, _body("wan2.6-i2v", {"img_url": uri})))[0] == 200
