from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.errors import ValidationError
from slackapp.places import Places
from tests.fakeslack import ChannelKind, FakeSlack


async def test_where_the_bot_can_post_is_known_before_anything_is_spent(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    places = Places(client)
    public = slack.add_channel("open", members=[alice], bot_member=False)
    await places.check(public.id, alice.id)  # chat:write.public
    invited = slack.add_channel("team", kind=ChannelKind.PRIVATE, members=[alice])
    await places.check(invited.id, alice.id)
    secret = slack.add_channel(
        "secret", kind=ChannelKind.PRIVATE, members=[alice], bot_member=False
    )
    with pytest.raises(ValidationError) as refused:
        await places.check(secret.id, alice.id)
    assert refused.value.key == "slack.place.cannot_post" and "/invite" in refused.value.message
    await places.check(slack.dm(alice).id, alice.id)  # the bot's own DM with her
    with pytest.raises(ValidationError):
        await places.check(slack.dm(alice).id, bob.id)  # someone else's DM
    archived = slack.add_channel("old", members=[alice])
    archived.archived = True
    with pytest.raises(ValidationError):
        await places.check(archived.id, alice.id)


async def test_answers_are_cached_and_a_missing_scope_steps_aside(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = slack.add_user("alice")
    channel = slack.add_channel("general", members=[alice])
    places = Places(client)
    await places.check(channel.id, alice.id)
    await places.check(channel.id, alice.id)
    assert len(slack.requests("conversations.info")) == 1
    slack.bot_scopes.discard("channels:read")
    other = slack.add_channel("other", members=[alice])
    await places.check(other.id, alice.id)  # cannot tell: the post will say
    assert slack.requests("conversations.info")[-1].error == "missing_scope"
