"""Effect, context menu + modal, mentions, rate limits, moderation, expired tokens, resume."""

from __future__ import annotations

from playground.fakediscord import FakeChannel, FakeInteraction, FakeMessage, pings
from playground.fakediscord._model import snowflake
from tests.e2e.harness import World, results_in


def thread_for(world: World, inter: FakeInteraction) -> FakeChannel:
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None
    thread = world.thread_of(status)
    assert thread is not None
    return thread


async def test_effect_template(world: World) -> None:
    await world.start_bot()
    inter = await world.run_slash("animate-effect", image=world.image(), effect="rotation")
    thread = thread_for(world, inter)
    result = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    fields = {f["name"]: f["value"] for f in result.embeds[0]["fields"]}
    assert fields["Effect"] == "rotation" and fields["Model"] == "Wan 2.1 Plus"


async def test_effect_autocomplete_lists_chinese_and_english_names(world: World) -> None:
    await world.start_bot()
    inter = await world.fake.autocomplete(
        "animate-effect", world.text, world.alice, "effect", effect="转圈"
    )
    await world.fake.wait_for(lambda: inter.responses)
    choices = inter.responses[0]["data"]["choices"]
    assert choices == [{"name": "转圈圈 · Spin around (general)", "value": "rotation"}]


async def test_model_autocomplete_shows_price_per_second(world: World) -> None:
    await world.start_bot()
    inter = await world.fake.autocomplete("animate", world.text, world.alice, "model", model="2.2")
    await world.fake.wait_for(lambda: inter.responses)
    names = [c["name"] for c in inter.responses[0]["data"]["choices"]]
    assert any("Wan 2.2 Flash" in n and "¥0.10/s" in n for n in names), names


async def test_context_menu_and_modal(world: World) -> None:
    await world.start_bot()
    photo = world.image(name="dog.png")
    bob = world.fake.user("bob")
    posted = FakeMessage(snowflake(), world.text.id, bob.payload(), "look", guild_id=world.guild.id)
    posted.attachments.append(photo)
    world.text.messages[posted.id] = posted

    menu = await world.fake.message_command("Animate this image", world.text, world.alice, posted)
    await world.fake.wait_for(lambda: menu.responses)
    assert menu.response_types == [9], "a modal is the first (and only) response"
    submit = await world.fake.submit_modal(menu, ["the dog wags its tail"])
    await world.fake.wait_for(
        lambda: (
            submit.original_id
            and world.thread_of(world.fake.find_message(submit.original_id) or posted)
        )
    )
    thread = thread_for(world, submit)
    result = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    assert result.attachments
    assert any(f["value"] == "the dog wags its tail" for f in result.embeds[0]["fields"])


async def test_context_menu_on_a_message_without_image(world: World) -> None:
    await world.start_bot()
    plain = FakeMessage(
        snowflake(), world.text.id, world.alice.payload(), "hi", guild_id=world.guild.id
    )
    world.text.messages[plain.id] = plain
    menu = await world.fake.message_command("Animate this image", world.text, world.alice, plain)
    await world.fake.wait_for(lambda: menu.responses)
    assert menu.response_types == [4]
    assert "no image" in menu.responses[0]["data"]["content"]
    assert menu.responses[0]["data"]["flags"] & 64


async def test_user_text_can_never_ping_anyone_but_the_requester(world: World) -> None:
    await world.start_bot()
    nasty = f"@everyone @here <@&{world.guild.id}> <@{world.fake.owner.id}> dance"
    inter = await world.animate(prompt=nasty)
    thread = thread_for(world, inter)
    await world.drive(lambda: results_in(world.fake, thread))
    bot_posts = [m for m in world.fake.all_messages() if m.author["id"] == str(world.fake.bot_id)]
    assert len(bot_posts) >= 2
    for msg in bot_posts:
        assert pings(msg) <= {f"<@{world.alice.id}>"}, msg.content
    for rec in world.fake.log:
        body = rec.json if isinstance(rec.json, dict) else {}
        body = body.get("data", body) if "type" in body else body
        if isinstance(body, dict) and ("content" in body or "embeds" in body):
            am = body.get("allowed_mentions")
            assert am is not None, f"{rec.route} has no allowed_mentions"
            assert am.get("parse") == [], rec.route
            assert {str(u) for u in am.get("users", [])} <= {str(world.alice.id)}


async def test_discord_429_on_the_result_is_retried_once(world: World) -> None:
    await world.start_bot()
    inter = await world.animate()
    thread = thread_for(world, inter)
    world.fake.fail_next("POST", f"/channels/{thread.id}/messages", status=429)
    posted = await world.drive(lambda: results_in(world.fake, thread))
    assert len(posted) == 1
    attempts = world.fake.requests("POST", f"/channels/{thread.id}/messages")
    assert [r.status for r in attempts] == [429, 200]


async def test_moderation_failure_names_the_input(world: World) -> None:
    await world.start_bot()
    world.emu.inject(
        "moderation_task",
        code="DataInspectionFailed",
        message="Input data may contain inappropriate content.",
    )
    inter = await world.animate(prompt="something rude")
    thread = thread_for(world, inter)
    notice = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    text = notice.embeds[0]["description"]
    assert "content check" in text
    assert notice.content == f"<@{world.alice.id}>" and pings(notice) == {f"<@{world.alice.id}>"}
    am = notice.allowed_mentions or {}
    assert am.get("parse") == [] and [str(u) for u in am.get("users", [])] == [str(world.alice.id)]


async def test_result_after_the_interaction_token_expired(world: World) -> None:
    await world.start_bot()
    inter = await world.animate()
    thread = thread_for(world, inter)
    world.fake.advance(16 * 60)  # the interaction token is dead now
    world.clock.advance(16 * 60)
    posted = await world.drive(lambda: results_in(world.fake, thread))
    assert posted[0].attachments
    late = [r for r in world.fake.log if r.path.startswith("/webhooks/") and r.status == 401]
    assert late == [], "nothing relied on the 15-minute token"


async def test_gateway_drop_resumes_and_commands_still_work(world: World) -> None:
    await world.start_bot()
    await world.fake.gateway.drop(4000)
    await world.fake.wait_for(lambda: world.fake.gateway.resumes)
    await world.fake.gateway.ready.wait()
    inter = await world.animate()
    assert inter.response_types == [5] and thread_for(world, inter)


async def test_sync_command_defers_before_asking_who_the_owner_is(world: World) -> None:
    # Bot.is_owner fetches the application info on first use: HTTP that must not eat the 3 s
    await world.start_bot()
    before = len(world.fake.log)
    bob = world.fake.user("bob")
    inter = await world.run_slash("animate-sync", user=bob)
    paths = [r.path for r in world.fake.log[before:]]
    first = next(i for i, p in enumerate(paths) if p.endswith("/callback"))
    assert paths[:first] == [], f"I/O before the defer: {paths[:first]}"
    assert inter.response_types == [5]
    await world.fake.wait_for(lambda: inter.followups)
    refusal = world.fake.find_message(inter.followups[-1])
    assert refusal is not None and refusal.flags & 64 and "owner" in refusal.content
