"""Bad input gets one clear ephemeral message; nothing reaches DashScope, nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from core.domain.quota import Limits
from playground.fakediscord import MIB, FakeInteraction
from tests.e2e.harness import World


def refusal(world: World, inter: FakeInteraction) -> str:
    """The ephemeral text the user saw (the public "thinking…" reply is deleted first)."""
    assert inter.followups, "the bot answered with a followup"
    msg = world.fake.find_message(inter.followups[-1])
    assert msg is not None and msg.flags & 64, "the refusal is ephemeral"
    assert world.fake.find_message(inter.original_id or 0) is None, "no public leftover"
    return msg.content


def creates(world: World) -> int:
    return sum(1 for r in world.emu.request_log if r.method == "POST")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"model": "wan2.2-i2v-flash", "duration": 7}, "5"),
        ({"model": "no-such-model"}, "Unknown model"),
        ({"model": "wan2.2-i2v-flash", "prompt": "x" * 900}, "800"),
        ({"model": "wan2.2-i2v-flash", "resolution": "1080P", "sound": "silent"}, ""),
    ],
    ids=["duration", "model", "prompt-too-long", "silent-on-silent-model-ok"],
)
async def test_catalog_refusals(world: World, options: dict[str, Any], expected: str) -> None:
    await world.start_bot()
    inter = await world.animate(**options)
    if not expected:  # the control case: accepted
        assert not inter.followups
        return
    text = refusal(world, inter)
    assert expected in text
    assert creates(world) == 0
    assert await world.service.recent(platform="discord", user=str(world.alice.id)) == []


async def test_wrong_duration_names_the_allowed_ones(world: World) -> None:
    await world.start_bot()
    inter = await world.animate(model="wan2.2-i2v-flash", duration=7)
    text = refusal(world, inter)
    assert "7" in text and "5" in text


async def test_non_image_is_judged_by_its_bytes(world: World) -> None:
    # metadata decides nothing but the size: the bytes are read and say "PDF"
    await world.start_bot()
    doc = world.fake.add_attachment(b"%PDF-1.4 not an image", "notes.pdf", "application/pdf")
    inter = await world.animate(image=doc)
    text = refusal(world, inter)
    assert "PDF document, not a picture" in text and "ref:" not in text
    assert creates(world) == 0


async def test_an_upload_discord_already_dropped_gets_a_clear_message(world: World) -> None:
    await world.start_bot()
    gone = world.image()
    del world.fake.attachments[gone.id]  # the ephemeral upload expired before we read it
    inter = await world.animate(image=gone)
    text = refusal(world, inter)
    assert "ref:" not in text and "Attach the file again" in text
    assert creates(world) == 0


async def test_too_big_image_is_refused(world: World) -> None:
    await world.start_bot()
    big = world.fake.add_attachment(b"\x89PNG" + b"\0" * (21 * MIB), "huge.png", "image/png")
    inter = await world.animate(image=big)
    assert "limit" in refusal(world, inter)
    assert creates(world) == 0


async def test_corrupt_image_gets_a_clear_message(world: World) -> None:
    await world.start_bot()
    broken = world.fake.add_attachment(b"\x89PNG\r\n\x1a\n garbage", "broken.png", "image/png")
    inter = await world.animate(image=broken)
    text = refusal(world, inter)
    assert "ref:" not in text and "damaged" in text
    assert creates(world) == 0


async def test_audio_on_a_model_without_custom_audio(world: World) -> None:
    await world.start_bot()
    audio = world.fake.add_attachment(b"ID3" + b"\0" * 100, "song.mp3", "audio/mpeg")
    inter = await world.animate(model="wan2.2-i2v-flash", audio=audio)
    assert "audio" in refusal(world, inter)


async def test_unknown_long_effect_still_gets_a_refusal(world: World) -> None:
    # a STRING option may be 6000 characters; echoing it must not push the reply past 2000
    await world.start_bot()
    inter = await world.run_slash("animate-effect", image=world.image(), effect="x" * 3000)
    text = refusal(world, inter)
    assert "Unknown effect" in text and len(text) <= 2000
    assert creates(world) == 0


async def test_a_silent_video_with_an_audio_file_is_refused_up_front(world: World) -> None:
    """Issue 8.14: it used to be refused only inside the create and reported as "we could not
    confirm whether DashScope created this job"."""
    await world.start_bot()
    audio = world.fake.add_attachment(b"ID3" + b"\0" * 100, "song.mp3", "audio/mpeg")
    inter = await world.animate(model="wan2.6-i2v-flash", sound="silent", audio=audio)
    text = refusal(world, inter)
    assert "silent" in text and "could not confirm" not in text
    assert not world.fake.requests("GET", "/cdn/") and creates(world) == 0
    assert await world.service.recent(platform="discord", user=str(world.alice.id)) == []


async def test_the_per_user_cap_refuses_before_the_attachment_is_read(world: World) -> None:
    """Issue 8.4: LIMIT_USER_ACTIVE_JOBS; the refusal costs neither money nor a download."""
    world.limits = Limits(active_jobs=2)
    await world.start_bot()
    for _ in range(2):
        accepted = await world.animate()
        assert not accepted.followups
    reads = len(world.fake.requests("GET", "/cdn/"))
    inter = await world.animate()
    text = refusal(world, inter)
    assert "limit of unfinished videos per person (2)" in text and "ref:" not in text
    assert len(world.fake.requests("GET", "/cdn/")) == reads  # the third image was never read
    jobs = await world.service.recent(platform="discord", user=str(world.alice.id))
    assert len(jobs) == 2
