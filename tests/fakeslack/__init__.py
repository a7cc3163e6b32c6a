"""A fake Slack (Web API + Socket Mode + files) on 127.0.0.1 for the real slack_sdk / slack_bolt.

Usage::

    async with FakeSlack() as slack:                      # ManualClock unless clock= is given
        alice = slack.add_user("alice", locale="zh-CN", admin=True)
        general = slack.add_channel("general", members=[alice])
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        handler = AsyncSocketModeHandler(AsyncApp(client=client), slack.app_token)
        await handler.connect_async()
        env = await slack.wait_acked(await slack.command(alice, general, "a cat"))
        await slack.wait_for(lambda: slack.open_view(alice))
        image = slack.upload_file(alice, png_bytes, "cat.png")
        await slack.submit_view(alice, {"prompt": "a cat", "image": [image]})

Acting as users: ``command``, ``command_in_thread``, ``submit_view``, ``choose`` (a select in
the open modal), ``close_view``, ``click``, ``message_shortcut``, ``post_message``,
``upload_file``, ``send_event``, ``trigger_for``.
Observing: ``messages_in``, ``thread``, ``all_messages``, ``ephemerals_for``, ``open_view``
(``.errors``), ``requests``, ``files``, ``socket.envelopes``/``connections``,
``hooks.downloads``, :func:`pings`. Steering: ``advance``/``tick`` (clock), ``fail_next``,
``limiter`` (``enabled``, ``commercial``, ``overrides``), ``share_delay``, ``bot_scopes``,
``revoke``, ``socket.disconnect``/``drop``/``redeliver``. Waiting: ``wait_for(predicate)`` wakes
on the fake's own state changes (requests, acks, frames, ticks), never on a timer.
"""

from tests.fakeslack._limits import Fault, Limit
from tests.fakeslack._mentions import pings
from tests.fakeslack._model import (
    BOT_SCOPES,
    ChannelKind,
    Ephemeral,
    FakeChannel,
    FakeFile,
    FakeMessage,
    FakeUser,
    FakeView,
    Recorded,
)
from tests.fakeslack._server import FakeSlack, ManualClock
from tests.fakeslack._socket import Envelope

__all__ = [
    "BOT_SCOPES",
    "ChannelKind",
    "Envelope",
    "Ephemeral",
    "FakeChannel",
    "FakeFile",
    "FakeMessage",
    "FakeSlack",
    "FakeUser",
    "FakeView",
    "Fault",
    "Limit",
    "ManualClock",
    "Recorded",
    "pings",
]
