"""Attachments are judged by their bytes: Discord's labels decide nothing but the size.

Discord labels files it cannot identify ``application/octet-stream`` (or gives no type at all):
a real JPEG named ``photo.bin`` must be animated, a real MP3 named ``voice.bin`` used as audio,
and the "Animate this image" menu must find such a file on a message.
"""

from __future__ import annotations

import io

from PIL import Image

from playground.fakediscord import FakeMessage
from playground.fakediscord._model import snowflake
from tests.core.media import corpus
from tests.e2e.harness import World


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 80, 40)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


async def test_unlabelled_jpeg_is_animated(world: World) -> None:
    await world.start_bot()
    for name, ctype in (("photo.bin", "application/octet-stream"), ("IMG_0001", None)):
        photo = world.fake.add_attachment(jpeg(), name, ctype)
        inter = await world.animate(image=photo, duration=2)
        assert not inter.followups, "accepted: no refusal"
        assert inter.response_types == [5]
    tasks = await world.drive(lambda: len(world.emu.tasks) == 2 and list(world.emu.tasks.values()))
    assert all(t.request_body["input"]["img_url"].startswith("data:image/") for t in tasks)


async def test_status_thumbnail_comes_from_the_bytes(world: World) -> None:
    await world.start_bot()
    photo = world.fake.add_attachment(jpeg(), "photo.bin", "application/octet-stream")
    inter = await world.animate(image=photo, duration=2)
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None
    assert status.embeds[0]["thumbnail"]["url"] == "attachment://input.jpg"


async def test_unlabelled_mp3_is_used_as_audio(world: World) -> None:
    await world.start_bot()
    sound = corpus.encode_audio("mp3", "libmp3lame", 4.0)
    voice = world.fake.add_attachment(sound, "voice.bin", "application/octet-stream")
    inter = await world.animate(model="wan2.6-i2v-flash", audio=voice, duration=5)
    assert not inter.followups, "accepted: no refusal"
    (task,) = await world.drive(lambda: list(world.emu.tasks.values()))
    assert task.request_body["input"].get("audio_url")


async def test_labelled_audio_that_is_not_audio_is_refused_by_its_bytes(world: World) -> None:
    await world.start_bot()
    fake_song = world.fake.add_attachment(b"%PDF-1.7\n" * 40, "song.mp3", "audio/mpeg")
    inter = await world.animate(model="wan2.6-i2v-flash", audio=fake_song)
    (followup,) = inter.followups
    msg = world.fake.find_message(followup)
    assert msg is not None and "not an audio file" in msg.content
    assert not world.emu.tasks


def post(world: World, *attachments: tuple[bytes, str, str | None]) -> FakeMessage:
    bob = world.fake.user("bob")
    message = FakeMessage(
        snowflake(), world.text.id, bob.payload(), "look", guild_id=world.guild.id
    )
    for data, name, ctype in attachments:
        message.attachments.append(world.fake.add_attachment(data, name, ctype))
    world.text.messages[message.id] = message
    return message


async def test_menu_takes_an_unlabelled_file_and_the_bytes_decide(world: World) -> None:
    await world.start_bot()
    posted = post(
        world,
        (b"some notes", "notes.txt", "text/plain"),
        (jpeg(), "photo.bin", "application/octet-stream"),
    )
    menu = await world.fake.message_command("Animate this image", world.text, world.alice, posted)
    await world.fake.wait_for(lambda: menu.responses)
    assert menu.response_types == [9], "the prompt form opens for the unlabelled file"
    submit = await world.fake.submit_modal(menu, ["the lamp flickers"])
    (task,) = await world.drive(lambda: list(world.emu.tasks.values()))
    assert task.request_body["input"]["img_url"].startswith("data:image/")
    assert submit.response_types == [5]


async def test_menu_prefers_the_labelled_picture(world: World) -> None:
    await world.start_bot()
    posted = post(
        world,
        (b"%PDF-1.7 not a picture", "scan.bin", "application/octet-stream"),
        (jpeg(), "cat.jpg", "image/jpeg"),
    )
    menu = await world.fake.message_command("Animate this image", world.text, world.alice, posted)
    await world.fake.wait_for(lambda: menu.responses)
    await world.fake.submit_modal(menu, ["the cat blinks"])
    (task,) = await world.drive(lambda: list(world.emu.tasks.values()))
    assert task.request_body["input"]["img_url"].startswith("data:image/")


async def test_menu_on_a_message_with_only_text_files(world: World) -> None:
    await world.start_bot()
    posted = post(world, (b"hello", "notes.txt", "text/plain"))
    menu = await world.fake.message_command("Animate this image", world.text, world.alice, posted)
    await world.fake.wait_for(lambda: menu.responses)
    assert menu.response_types == [4]
    content = menu.responses[0]["data"]["content"]
    assert "no image" in content and "/animate" in content
    assert menu.responses[0]["data"]["flags"] & 64
