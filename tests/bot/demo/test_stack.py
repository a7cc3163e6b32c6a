"""The playground's page API against the real stack, in process: what the page sends becomes
real interactions, and the bot's answers come back as the channel's state."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.demo.stack import Demo, demo_stack
from core.i18n import t
from playground.channel import ChannelPage


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Demo, str, aiohttp.ClientSession]]:
    # a minute in the video service's queue: Cancel is clicked while DashScope can still cancel
    async with (
        demo_stack(tmp_path / "data", queue_seconds=60) as demo,
        ChannelPage(demo.fake, demo.channel, demo.user).serve("127.0.0.1", 0) as page,
        aiohttp.ClientSession(f"http://127.0.0.1:{page.port}") as session,
    ):
        yield demo, f"http://127.0.0.1:{page.port}", session


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 140, 200)).save(buf, "PNG")
    return buf.getvalue()


async def state(session: aiohttp.ClientSession, **query: str) -> dict[str, Any]:
    async with session.get("/api/state", params={"locale": "zh-CN", **query}) as r:
        assert r.status == 200
        body: dict[str, Any] = await r.json()
        return body


async def test_a_request_from_the_page_runs_and_its_cancel_button_works(
    running: tuple[Demo, str, aiohttp.ClientSession],
) -> None:
    demo, _, session = running
    async with session.get("/api/info") as r:
        info = await r.json()
    names = [o["name"] for o in info["command"]["options"]]
    # Discord lists required options first: the prompt; the picture is optional since a clip
    # to continue can stand in for it
    assert names[:5] == ["prompt", "image", "model", "resolution", "duration"]
    body = {"option": "model", "value": "flash", "locale": "en-US"}
    async with session.post("/api/autocomplete", json=body) as r:
        choices = (await r.json())["choices"]
    assert "wan2.6-i2v-flash" in [c["value"] for c in choices], "the bot's own answer"

    form = aiohttp.FormData()
    form.add_field("image", png(), filename="cat.png", content_type="image/png")
    for key, value in (("prompt", "猫在挥手"), ("duration", "2"), ("locale", "zh-CN")):
        form.add_field(key, value)
    async with session.post("/api/animate", data=form) as r:
        assert r.status == 200, await r.text()

    pending = t("zh-CN", "status.pending")

    def cancel_offered() -> bool:
        # waiting in the service's queue, Cancel offered, the thread open
        shown = demo.fake.messages_in(demo.channel)
        return any(
            m.components and m.id in demo.fake.channels and m.embeds[0]["title"] == pending
            for m in shown
        )

    await demo.fake.wait_for(cancel_offered)
    before = await state(session)
    (status,) = before["messages"]
    assert status["used"] == {"user": "you", "command": "/animate"}
    assert status["thread"]["name"] == "#1 猫在挥手"
    (cancel,) = status["buttons"]
    assert cancel["label"] == t("zh-CN", "button.cancel")

    # a long poll answers when the channel changes (here: the click's answers)
    waiting = asyncio.create_task(state(session, after=str(before["version"])))
    click = {"message_id": status["id"], "custom_id": cancel["custom_id"], "locale": "zh-CN"}
    async with session.post("/api/click", json=click) as r:
        assert r.status == 200
    assert (await asyncio.wait_for(waiting, 10))["version"] > before["version"]

    canceled = t("zh-CN", "status.canceled")

    def titles() -> list[str | None]:
        return [e.get("title") for m in demo.fake.messages_in(demo.channel) for e in m.embeds]

    await demo.fake.wait_for(lambda: canceled in titles())
    private = [m for m in (await state(session))["messages"] if m["ephemeral"]]
    assert [m["content"] for m in private] == [t("zh-CN", "cancel.done", job=1)]
    (task,) = demo.emulator.tasks.values()
    assert task.status == "CANCELED", "canceled at the (emulated) video service too"


async def test_the_page_refuses_what_discord_would_not_send(
    running: tuple[Demo, str, aiohttp.ClientSession],
) -> None:
    demo, _, session = running
    form = aiohttp.FormData()
    form.add_field("image", png(), filename="cat.png", content_type="image/png")
    form.add_field("locale", "en-US")
    async with session.post("/api/animate", data=form) as r:
        assert (r.status, (await r.json())["error"]) == (400, "prompt is required")
    form = aiohttp.FormData()
    form.add_field("image", png(), filename="cat.png", content_type="image/png")
    form.add_field("prompt", "x")
    form.add_field("locale", "fr")
    async with session.post("/api/animate", data=form) as r:
        assert r.status == 400 and "locale" in (await r.json())["error"]
    for message_id in ("1", "not-a-number"):
        click = {"message_id": message_id, "custom_id": "animate:cancel:1", "locale": "en-US"}
        async with session.post("/api/click", json=click) as r:
            assert r.status == 404
    typed = {"option": "prompt", "value": "x", "locale": "en-US"}
    async with session.post("/api/autocomplete", json=typed) as r:
        assert r.status == 400, "prompt has no autocomplete: the bot would never answer"
    assert not demo.fake.interactions, "nothing reached the bot"


async def test_attachments_are_served_with_byte_ranges(
    running: tuple[Demo, str, aiohttp.ClientSession],
) -> None:
    demo, _, session = running
    att = demo.fake.add_attachment(b"0123456789", "clip.mp4", "video/mp4")
    url = f"/attachments/{att.id}/clip.mp4"
    async with session.get(url) as r:
        assert (r.status, await r.read(), r.headers["Accept-Ranges"]) == (
            200,
            b"0123456789",
            "bytes",
        )
    async with session.get(url, headers={"Range": "bytes=2-5"}) as r:
        assert (r.status, await r.read(), r.headers["Content-Range"]) == (
            206,
            b"2345",
            "bytes 2-5/10",
        )
    async with session.get(url, headers={"Range": "bytes=-3"}) as r:
        assert (r.status, await r.read()) == (206, b"789")
    async with session.get(url, headers={"Range": "bytes=20-"}) as r:
        assert r.status == 416
    async with session.get("/attachments/999/x.mp4") as r:
        assert r.status == 404


async def test_extend_opens_the_bots_form_on_the_page_and_continues_the_video(
    tmp_path: Path,
) -> None:
    """A click the bot answers with a form (Extend): the page gets the form, sends it back,
    and the continuation runs in the same thread."""
    async with (
        demo_stack(tmp_path / "data", task_seconds=1.0, queue_seconds=0.0) as demo,
        ChannelPage(demo.fake, demo.channel, demo.user).serve("127.0.0.1", 0) as page,
        aiohttp.ClientSession(f"http://127.0.0.1:{page.port}") as session,
    ):
        form = aiohttp.FormData()
        form.add_field("image", png(), filename="cat.png", content_type="image/png")
        for key, value in (("prompt", "day"), ("model", "wan2.7-i2v"), ("duration", "2")):
            form.add_field(key, value)
        form.add_field("locale", "en-US")
        async with session.post("/api/animate", data=form) as r:
            assert r.status == 200, await r.text()

        def extend_offered() -> tuple[str, str, int] | None:
            for m in demo.fake.all_messages():  # the result is in the thread
                for row in m.components:
                    for c in row.get("components", []):
                        if str(c.get("custom_id", "")).startswith("animate:extend:"):
                            return str(m.id), str(c["custom_id"]), m.channel_id
            return None

        def done() -> bool:  # the status says Done once the posted result is recorded
            done = t("en-US", "status.delivered")
            shown = demo.fake.messages_in(demo.channel)
            return any(e.get("title") == done for m in shown for e in m.embeds)

        await demo.fake.wait_for(done, within=60)
        message_id, custom_id, thread = await demo.fake.wait_for(extend_offered)
        click = {"message_id": message_id, "custom_id": custom_id, "locale": "en-US"}
        async with session.post("/api/click", json=click) as r:
            answer = await r.json()
            assert r.status == 200, answer
        modal = answer["modal"]
        assert modal["title"] == t("en-US", "extend.title")
        assert modal["inputs"][0]["label"] == t("en-US", "extend.prompt")
        total = 5  # the 2 s video continued to 5 s in all
        sent = {"interaction": answer["interaction"], "values": ["night falls", str(total)]}
        async with session.post("/api/modal", json=sent) as r:
            assert r.status == 200, await r.text()
        async with session.post("/api/modal", json=sent) as r:
            assert r.status == 404, "a form is sent once"

        def videos() -> list[str]:
            return [
                a.filename
                for m in demo.fake.messages_in(thread)
                for a in m.attachments
                if a.filename.endswith(".mp4")
            ]

        # the continuation's video arrives in the same thread
        assert await demo.fake.wait_for(lambda: len(videos()) == 2, within=60)
        clips = [
            t.request_body
            for t in demo.emulator.tasks.values()
            if t.request_body["input"]["media"][0]["type"] == "first_clip"
        ]
        assert [c["parameters"]["duration"] for c in clips] == [total]
