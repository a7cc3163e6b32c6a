"""A server's policy through the facade (issue 10): where and by whom, which models, the largest
resolution and duration, sound, own audio and the block-list; each refusal before anything is
recorded, each default filled in; Regenerate is held to the policy of today."""

from __future__ import annotations

import dataclasses

import pytest

from core.app.controls import add_item, set_to
from core.domain.errors import AnimateError
from core.domain.jobs import JobSpec, JobStatus
from core.domain.policy import Member, Refs
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png, tone_wav
from tests.core.rig import CHAT, SPEC, Rig, run_until

ADMIN = Member(admin=True)
ANY = JobSpec(model="", prompt="a cat surfing", resolution="", duration=0)


async def refusal(
    rig: Rig, spec: JobSpec = ANY, member: Member | None = None, **kw: object
) -> AnimateError:
    chat = kw.pop("chat", CHAT)
    with pytest.raises(AnimateError) as caught:
        await rig.submit(spec=spec, image=png(), chat=chat, member=member, **kw)
    return caught.value


async def test_channels_and_roles(service: Rig, provider: FakeVideoProvider) -> None:
    await service.configure(CHAT, ADMIN, "channels", add_item("9"))
    error = await refusal(service)
    assert error.key == "policy.channel" and error.params == {"channels": Refs("channel", ("9",))}
    # a thread whose parent is allowed is allowed
    await service.submit(spec=ANY, image=png(), chat=CHAT, member=Member(places=frozenset({"9"})))
    here = dataclasses.replace(CHAT, channel="9")
    await service.configure(CHAT, ADMIN, "roles", add_item("42"))
    assert (await refusal(service, chat=here)).key == "policy.role"
    await service.submit(spec=ANY, image=png(), chat=here, member=Member(roles=frozenset({"42"})))
    await service.submit(spec=ANY, image=png(), chat=here, member=ADMIN)  # admins always may
    assert provider.calls == []


async def test_models_and_the_servers_default(service: Rig) -> None:
    await service.configure(CHAT, ADMIN, "models", add_item("wan2.2-i2v-flash"))
    await service.configure(CHAT, ADMIN, "models", add_item("wanx2.1-i2v-turbo"))
    error = await refusal(service, SPEC)  # SPEC asks for wan2.6-i2v-flash by name
    assert error.key == "policy.model" and error.params["model"] == "wan2.6-i2v-flash"
    view = await service.submit(spec=ANY, image=png(), chat=CHAT)
    assert view.spec.model == "wan2.2-i2v-flash"  # the bot's default is not allowed: the first is
    await service.configure(CHAT, ADMIN, "default_model", set_to("wanx2.1-i2v-turbo"))
    view = await service.submit(spec=ANY, image=png(), chat=CHAT)
    assert (view.spec.model, view.spec.resolution, view.spec.duration) == (
        "wanx2.1-i2v-turbo",
        "720P",
        5,
    )
    effect = dataclasses.replace(ANY, template="flying", prompt=None)
    view = await service.submit(spec=effect, image=png(), chat=CHAT)
    assert view.spec.model == "wanx2.1-i2v-turbo"  # the allowed model that offers the effect


async def test_resolution_and_duration_caps(service: Rig) -> None:
    await service.configure(CHAT, ADMIN, "max_resolution", set_to("720P"))
    await service.configure(CHAT, ADMIN, "max_duration", set_to(3))
    view = await service.submit(spec=ANY, image=png(), chat=CHAT)
    # wan2.6-i2v-flash makes 1080P 5 s by default: the largest the server allows instead
    assert (view.spec.resolution, view.spec.duration) == ("720P", 3)
    assert view.cost_estimate == pytest.approx(0.30 * 3)
    error = await refusal(service, dataclasses.replace(ANY, resolution="1080P"))
    assert error.key == "policy.resolution" and error.params == {
        "resolution": "1080P",
        "max": "720P",
    }
    error = await refusal(service, dataclasses.replace(ANY, duration=5))
    assert error.key == "policy.duration" and error.params == {"duration": 5, "max": 3}
    only_five = dataclasses.replace(ANY, model="wan2.2-i2v-flash")  # 5 s only
    assert (await refusal(service, only_five)).key == "policy.no_duration"


async def test_sound_and_own_audio(service: Rig) -> None:
    await service.configure(CHAT, ADMIN, "sound", set_to(False))
    await service.configure(CHAT, ADMIN, "custom_audio", set_to(False))
    view = await service.submit(spec=ANY, image=png(), chat=CHAT)
    assert view.spec.sound is False and view.cost_estimate == pytest.approx(0.25 * 5)
    always = dataclasses.replace(ANY, model="wan2.6-i2v")
    assert (await refusal(service, always)).key == "policy.sound"
    await service.configure(CHAT, ADMIN, "sound", set_to(None))  # back to allowed
    error = await refusal(service, audio=tone_wav())
    assert error.key == "policy.custom_audio" and error.subject is not None


async def test_blocked_words_are_matched_in_any_case_and_width(service: Rig) -> None:
    await service.configure(CHAT, ADMIN, "blocked_words", add_item("Big Dog"))
    for prompt in ("a BIG   DOG runs", "ａ ｂｉｇ ｄｏｇ"):  # case, spaces, full width
        error = await refusal(service, dataclasses.replace(ANY, prompt=prompt))
        assert error.key == "policy.blocked_word" and error.params == {"word": "big dog"}
    await service.submit(spec=dataclasses.replace(ANY, prompt="a big cat"), image=png(), chat=CHAT)


async def test_regenerate_is_held_to_todays_policy(
    service: Rig, clock: FakeClock, port: RecordingPort
) -> None:
    view = await service.submit(spec=ANY, image=png(), chat=CHAT)
    await run_until(service, clock, port, {JobStatus.DELIVERED}, [view.id])
    await service.configure(CHAT, ADMIN, "blocked_words", add_item("cat"))
    with pytest.raises(AnimateError) as caught:
        await service.regenerate(view.id, user=CHAT.user, chat=CHAT)
    assert caught.value.key == "policy.blocked_word"
    await service.configure(CHAT, ADMIN, "blocked_words", set_to(None))
    again = await service.regenerate(view.id, user=CHAT.user, chat=CHAT)
    assert again.parent_job_id == view.id


async def test_an_effect_picks_the_model_that_offers_it_kf2v_included(service: Rig) -> None:
    kf2v = dataclasses.replace(ANY, template="solaron", prompt=None)  # first-and-last-frame
    assert (await service.submit(spec=kf2v, image=png(), chat=CHAT)).spec.model == (
        "wanx2.1-kf2v-plus"
    )
    first = dataclasses.replace(ANY, template="flying", prompt=None)
    assert (await service.submit(spec=first, image=png(), chat=CHAT)).spec.model == (
        "wanx2.1-i2v-plus"
    )
    await service.configure(CHAT, ADMIN, "models", add_item("wanx2.1-i2v-plus"))
    error = await refusal(service, kf2v)  # the server does not allow the model it needs
    assert (error.key, error.params["model"]) == ("policy.model", "wanx2.1-kf2v-plus")


async def test_an_effect_no_allowed_model_offers_is_refused_not_run_elsewhere(
    service: Rig, provider: FakeVideoProvider
) -> None:
    await service.configure(CHAT, ADMIN, "models", add_item("wanx2.1-i2v-turbo"))
    mermaid = dataclasses.replace(ANY, template="mermaid", prompt=None)  # not on turbo
    error = await refusal(service, mermaid)
    assert (error.key, error.params["model"]) == ("policy.model", "wanx2.1-i2v-plus")
    assert await service.store.jobs_with_status(list(JobStatus)) == [] and provider.calls == []
