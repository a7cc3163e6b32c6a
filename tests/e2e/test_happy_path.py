from __future__ import annotations

import io

import av

from tests.e2e.harness import World, results_in


async def test_animate_posts_the_mp4_in_a_thread(world: World) -> None:
    await world.start_bot()
    inter = await world.animate(prompt="the cat waves", resolution="720P", duration=2)
    assert inter.response_types == [5]  # deferred first, within the 3 s window
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None and status.embeds, "the deferred reply became the status message"
    thread = world.thread_of(status)
    assert thread is not None, "a public thread was opened on the status message"

    posted = await world.drive(lambda: results_in(world.fake, thread))
    result = posted[0]
    assert len(result.attachments) == 1
    upload = next(
        r for r in world.fake.requests("POST", f"/channels/{thread.id}/messages") if r.files
    )
    assert upload.authorized, "posted with the bot token, not the interaction token"
    data = upload.files[0].data
    with av.open(io.BytesIO(data), "r") as container:
        assert container.streams.video[0].codec_context.name == "h264"
        frames = list(container.decode(video=0))
    assert frames, "PyAV decodes real frames from the uploaded MP4"
    fields = {f["name"]: f["value"] for f in result.embeds[0]["fields"]}
    assert fields["Resolution"] == "720P" and fields["Duration"] == "2 s"
    assert fields["Model"] == "Wan 2.6 Flash"

    # the status message ends in its final state, keeps the input thumbnail, links the result
    final = status.embeds[0]
    assert final["title"] == "✅ Done" and not any(r["components"] for r in status.components)
    assert final["thumbnail"]["url"] == "attachment://input.png" and status.attachments
    assert any(f["name"] == "Result" and str(result.id) in f["value"] for f in final["fields"])
    titles = [
        r.json["embeds"][0]["title"] for r in world.fake.requests("PATCH", f"/messages/{status.id}")
    ]
    assert titles == ["⏳ Waiting at the video service", "🎬 Generating", "✅ Done"], (
        "edits on change only"
    )


async def test_aspect_with_blurred_padding_reaches_the_service(world: World) -> None:
    # (the pixels of crop vs blurred padding are checked in tests/media)
    """aspect:9:16 fill:blur — DashScope gets a 9:16 image and the job remembers the choice."""
    import base64

    from PIL import Image

    await world.start_bot()
    inter = await world.animate(prompt="the cat waves", aspect="9:16", fill="blur", duration=2)
    assert inter.response_types == [5]
    (task,) = await world.drive(lambda: list(world.emu.tasks.values()))
    uri = task.request_body["input"]["img_url"]
    assert uri.startswith("data:image/")
    picture = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert abs(picture.width / picture.height - 9 / 16) < 0.02
    (job,) = await world.service.recent(platform="discord", user=str(world.alice.id))
    assert (job.spec.aspect, job.spec.fill) == ("9:16", "blur")
