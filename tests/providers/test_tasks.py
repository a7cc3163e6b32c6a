"""Uploads, wan2.7 media, cancel, list, expiry and downloads against the emulator."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from core.domain.catalog import Region
from core.domain.errors import Input, Kind, ProviderError, ValidationError
from core.domain.tasks import MediaFile, TaskStatus
from emulator import Emulator
from providers import DashScopeClient
from tests.providers.conftest import (
    KEY,
    START,
    CannedServer,
    FakeClock,
    listing,
    make_client,
    model,
    request,
    wav,
)


def _audio() -> MediaFile:
    return MediaFile(wav(4.0), "audio/wav", "voice line.wav")


# ---- temporary upload + protocols ------------------------------------------------------------


@pytest.mark.parametrize("model", ["wan2.5-i2v-preview", "wan2.6-i2v"])
async def test_audio_goes_through_the_upload_flow(
    client: DashScopeClient, emu: Emulator, clock: FakeClock, model: str
) -> None:
    info = await client.create_task(request(model, audio=_audio()))
    paths = [(r.method, r.path) for r in emu.request_log]
    assert paths[0] == ("GET", "/api/v1/uploads")
    assert paths[1][0] == "POST" and paths[1][1].startswith("/oss/")
    assert paths[2] == ("POST", "/api/v1/services/aigc/video-generation/video-synthesis")
    policy_query = emu.request_log[0].query
    assert policy_query == {"action": "getPolicy", "model": model}
    assert "Authorization" not in emu.request_log[1].headers  # the key never goes to OSS
    create = emu.request_log[2]
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"
    audio_url = create.json["input"]["audio_url"]
    assert audio_url.startswith("oss://dashscope-instant/")
    assert audio_url.endswith("/voice_line.wav")
    stored = emu.uploads[audio_url.removeprefix("oss://")]
    assert stored.data == _audio().data
    assert stored.content_type == "audio/wav"
    clock.advance(3600)
    assert (await client.get_task(info.task_id)).status is TaskStatus.SUCCEEDED


async def test_wan27_media_protocol_with_driving_audio(
    client: DashScopeClient, emu: Emulator
) -> None:
    info = await client.create_task(request("wan2.7-i2v", audio=_audio(), duration=3))
    body = emu.tasks[info.task_id].request_body
    media = body["input"]["media"]
    assert [m["type"] for m in media] == ["first_frame", "driving_audio"]
    assert media[1]["url"].startswith("oss://")
    assert "audio_url" not in body["input"] and "img_url" not in body["input"]


async def test_an_upload_on_its_own_then_a_create_that_only_names_it(
    client: DashScopeClient, emu: Emulator, clock: FakeClock
) -> None:
    """Issue 8.5: the engine uploads as its own step; the create then sends the oss:// URL with
    the OSS-resolve header, and the emulator resolves it to the stored file."""
    url = await client.upload_file(model("wan2.6-i2v"), _audio())
    assert emu.request_log[0].path == "/api/v1/uploads"
    assert emu.uploads[url.removeprefix("oss://")].data == _audio().data
    before = len(emu.request_log)
    info = await client.create_task(request("wan2.6-i2v", audio_url=url))
    paths = [r.path for r in emu.request_log[before:]]
    assert paths == ["/api/v1/services/aigc/video-generation/video-synthesis"]  # no 2nd upload
    create = emu.request_log[before]
    assert create.headers["X-DashScope-OssResourceResolve"] == "enable"
    assert create.json["input"]["audio_url"] == url
    clock.advance(3600)
    assert (await client.get_task(info.task_id)).status is TaskStatus.SUCCEEDED


async def test_public_audio_url_needs_no_upload(client: DashScopeClient, emu: Emulator) -> None:
    await client.create_task(request("wan2.6-i2v", audio_url="https://example.com/a.mp3"))
    assert [r.path for r in emu.request_log] == [
        "/api/v1/services/aigc/video-generation/video-synthesis"
    ]
    assert "X-DashScope-OssResourceResolve" not in emu.request_log[0].headers


async def test_upload_outside_beijing_is_refused_before_any_call(
    session: aiohttp.ClientSession,
) -> None:
    client = DashScopeClient(session, api_key=KEY, region=Region.SINGAPORE)
    with pytest.raises(ValidationError) as caught:
        await client.create_task(request("wan2.6-i2v", audio=_audio()))
    assert caught.value.subject is Input.AUDIO
    assert "Beijing" in caught.value.message


async def test_upload_file_outside_beijing_is_refused_before_any_call(
    session: aiohttp.ClientSession,
) -> None:
    client = DashScopeClient(session, api_key=KEY, region=Region.SINGAPORE)
    with pytest.raises(ValidationError, match="Beijing"):
        await client.upload_file(model("wan2.6-i2v"), _audio())


async def test_upload_host_outside_oss_is_refused(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    canned.queue(
        200,
        {
            "data": {
                "policy": "p",
                "signature": "s",
                "upload_dir": "dashscope-instant/x",
                "upload_host": "https://collector.example.com/",
                "oss_access_key_id": "LTAI",
            }
        },
    )
    client = make_client(session, canned.base_url)
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request("wan2.6-i2v", audio=_audio()))
    assert "unexpected host" in caught.value.message
    assert len(canned.seen) == 1  # only the policy call; nothing was uploaded or created


async def test_upload_redirect_to_another_host_is_not_followed(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    # the upload host is checked before the POST; a 302 must not carry the request elsewhere
    elsewhere = CannedServer()
    await elsewhere.start()
    try:
        canned.queue(
            200,
            {
                "data": {
                    "policy": "p",
                    "signature": "s",
                    "upload_dir": "dashscope-instant/x",
                    # the configured (emulator) origin is a trusted upload host
                    "upload_host": f"http://127.0.0.1:{canned.port}/oss/",
                    "oss_access_key_id": "LTAI",
                }
            },
        )
        canned.queue(302, b"", headers={"Location": f"{elsewhere.base_url}/collect"})
        client = make_client(session, canned.base_url)
        with pytest.raises(ProviderError) as caught:
            await client.create_task(request("wan2.6-i2v", audio=_audio()))
        assert caught.value.status == 302 and not caught.value.retryable
        assert elsewhere.seen == [], "the redirect target never heard from us"
        assert [m for m, _ in canned.seen] == ["GET", "POST"], "no create after a failed upload"
    finally:
        await elsewhere.close()


# ---- cancel -----------------------------------------------------------------------------------


async def test_cancel_pending_then_running_is_refused(
    make_emulator: object, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    emu: Emulator = await make_emulator(queue_delay=30.0)  # type: ignore[operator]  # factory
    client = make_client(session, emu.base_url)
    first = await client.create_task(request())
    await client.cancel_task(first.task_id)
    canceled = await client.get_task(first.task_id)
    assert canceled.status is TaskStatus.CANCELED
    assert canceled.error is not None and canceled.error.kind is Kind.CANCELED

    clock.advance(1)
    second = await client.create_task(request())
    clock.advance(31)  # past the queue delay: RUNNING
    assert (await client.get_task(second.task_id)).status is TaskStatus.RUNNING
    with pytest.raises(ProviderError) as caught:
        await client.cancel_task(second.task_id)
    assert caught.value.code == "UnsupportedOperation"
    assert caught.value.kind is Kind.INVALID_INPUT
    assert caught.value.message == (
        "Too late to cancel: DashScope is already generating this video."
    )


# ---- list -------------------------------------------------------------------------------------


async def test_list_filters_by_time_model_and_status(
    client: DashScopeClient, emu: Emulator, clock: FakeClock
) -> None:
    a = await client.create_task(request("wan2.6-i2v-flash"))
    clock.advance(2)
    b = await client.create_task(request("wanx2.1-i2v-turbo"))
    clock.advance(3600)
    c = await client.create_task(request("wan2.6-i2v-flash"))
    start = datetime.fromtimestamp(START, UTC)
    window = (start - timedelta(seconds=1), start + timedelta(minutes=5))

    rows = await client.list_tasks(start=window[0], end=window[1])
    assert {r.task_id for r in rows} == {a.task_id, b.task_id}
    turbo = next(r for r in rows if r.task_id == b.task_id)
    assert turbo.model == "wanx2.1-i2v-turbo"  # catalog id, whatever the wire said
    assert turbo.created_at == datetime.fromtimestamp(START + 2, UTC)

    only_flash = await client.list_tasks(start=window[0], end=window[1], model="wan2.6-i2v-flash")
    assert [r.task_id for r in only_flash] == [a.task_id]

    now = datetime.fromtimestamp(clock.now, UTC)
    everything = await client.list_tasks(start=start, end=now)
    assert {r.task_id for r in everything} == {a.task_id, b.task_id, c.task_id}
    finished = await client.list_tasks(start=start, end=now, status=TaskStatus.SUCCEEDED)
    assert {r.task_id for r in finished} == {a.task_id, b.task_id}
    query = emu.request_log[-1].query
    assert query["status"] == "SUCCEEDED"
    assert len(query["start_time"]) == 14  # YYYYMMDDhhmmss, DashScope's zone (UTC+8)
    assert query["start_time"] == "20260101080000"


async def test_list_follows_pages(session: aiohttp.ClientSession, canned: CannedServer) -> None:
    row = {"task_id": "t1", "status": "SUCCEEDED", "model_name": "wan2.1-i2v-plus",
           "gmt_create": 1767225600000}  # fmt: skip
    canned.queue(200, {"data": [row], "total_page": 2, "page_no": 1})
    canned.queue(200, {"tasks": [{**row, "task_id": "t2", "gmt_create": "2026-01-01 08:00:00.000"}],
                       "total_page": 2})  # fmt: skip
    client = make_client(session, canned.base_url)
    now = datetime.fromtimestamp(START, UTC)
    rows = await client.list_tasks(start=now, end=now)
    assert [r.task_id for r in rows] == ["t1", "t2"]
    assert {r.model for r in rows} == {"wanx2.1-i2v-plus"}
    assert rows[0].created_at == rows[1].created_at == now
    assert ["page_no=1" in q for _, q in canned.seen] == [True, False]


# ---- expiry and downloads ----------------------------------------------------------------------


async def test_expired_task_and_expired_link(
    client: DashScopeClient, emu: Emulator, clock: FakeClock, tmp_path: Path
) -> None:
    info = await client.create_task(request())
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.video_url is not None
    clock.advance(86400 + 1)
    gone = await client.get_task(info.task_id)
    assert gone.status is TaskStatus.UNKNOWN
    assert gone.error is not None and gone.error.kind is Kind.EXPIRED
    with pytest.raises(ProviderError) as caught:
        await client.download(done.video_url, tmp_path / "v.mp4", max_bytes=10**8)
    assert (caught.value.kind, caught.value.status) == (Kind.EXPIRED, 403)
    assert "24 hours" in caught.value.message
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/video.mp4",
        "http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/x.mp4",  # not https
        "https://my-bucket.oss-cn-beijing.aliyuncs.com/x.mp4",  # not a result bucket
        "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com.evil.com/x.mp4",
        "http://127.0.0.1:1/x.mp4",  # loopback, but not the configured origin
    ],
)
async def test_download_refuses_hosts_outside_the_allow_list(
    client: DashScopeClient, emu: Emulator, tmp_path: Path, url: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        await client.download(url, tmp_path / "v.mp4", max_bytes=10**8)
    assert caught.value.kind is Kind.DOWNLOAD
    assert "not fetched" in caught.value.message
    assert emu.request_log == []


async def test_download_size_cap_leaves_nothing(
    client: DashScopeClient, clock: FakeClock, tmp_path: Path
) -> None:
    info = await client.create_task(request())
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.video_url is not None
    with pytest.raises(ProviderError) as caught:
        await client.download(done.video_url, tmp_path / "v.mp4", max_bytes=1000)
    assert caught.value.kind is Kind.DOWNLOAD
    assert "larger than" in caught.value.message
    assert listing(tmp_path) == []


@pytest.mark.parametrize("fits", [False, True])
async def test_size_cap_without_content_length(
    session: aiohttp.ClientSession, tmp_path: Path, fits: bool
) -> None:
    # a chunked body has no Content-Length: the cap must hold while streaming
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20)
        for _ in range(40):
            await resp.write(b"x" * 4096)
        return resp

    app = web.Application()
    app.router.add_get("/r.mp4", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        client = make_client(session, f"http://127.0.0.1:{port}/api/v1")
        limit = 200_000 if fits else 50_000
        if fits:
            size = await client.download(
                f"http://127.0.0.1:{port}/r.mp4", tmp_path / "ok.mp4", max_bytes=limit
            )
            assert size == 32 + 40 * 4096
        else:
            with pytest.raises(ProviderError):
                await client.download(
                    f"http://127.0.0.1:{port}/r.mp4", tmp_path / "v.mp4", max_bytes=limit
                )
            assert listing(tmp_path) == []
    finally:
        await runner.cleanup()


async def test_download_refuses_non_mp4(
    session: aiohttp.ClientSession, canned: CannedServer, tmp_path: Path
) -> None:
    canned.queue(200, b"<html>not a video</html>" * 10, content_type="text/html")
    client = make_client(session, canned.base_url)
    url = f"http://127.0.0.1:{canned.port}/oss/result.mp4?Expires=1&Signature=abc"
    with pytest.raises(ProviderError) as caught:
        await client.download(url, tmp_path / "v.mp4", max_bytes=10**6)
    assert caught.value.kind is Kind.DOWNLOAD
    assert "not an MP4" in caught.value.message
    assert listing(tmp_path) == []


# ---- the key never leaks ---------------------------------------------------------------------


async def test_api_key_never_in_repr_errors_or_logs(
    session: aiohttp.ClientSession,
    emu: Emulator,
    canned: CannedServer,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(session, emu.base_url)
    texts = [repr(client), str(client)]
    info = await client.create_task(request("wan2.6-i2v", audio=_audio()))
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.video_url is not None
    await client.download(done.video_url, tmp_path / "v.mp4", max_bytes=10**8)
    texts.append(repr(done))
    emu.inject("create_500_after_create")
    emu.inject("moderation_create")
    emu.inject("query_500", count=3)
    canned.queue(400, {"code": "InvalidParameter", "message": f"bad key {KEY} echoed"})
    calls = [
        client.create_task(request()),
        client.create_task(request()),
        client.get_task(info.task_id),
        make_client(session, canned.base_url).create_task(request()),
        make_client(session, emu.base_url, key=KEY + "x").get_task("t"),
    ]
    for call in calls:
        with pytest.raises(ProviderError) as caught:
            await call
        err = caught.value
        texts += [str(err), repr(err), err.message, str(err.provider_message), str(vars(err))]
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(r.args) for r in caplog.records]
    assert len(caplog.records) > 5
    assert all(KEY not in t for t in texts)
