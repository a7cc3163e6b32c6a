"""A fake Slack (Web API + Socket Mode + files) on 127.0.0.1 for the real slack_sdk / slack_bolt."""

from tests.fakeslack._limits import Fault, Limit
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
    pings,
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
