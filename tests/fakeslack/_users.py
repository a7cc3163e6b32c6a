"""Methods of :class:`FakeSlack` that play a person using the Slack client.

Each interaction builds the payload Slack would send (shapes from Bolt's and slack_sdk's test
fixtures and the Java SDK's payload samples, reference §3-§8), issues a fresh ``trigger_id``
(valid 3 s on the fake's clock) and ``response_url``, and delivers it over Socket Mode. The
returned :class:`Envelope` tells whether and how the app acked.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from tests.fakeslack._blocks import state_values, walk_elements
from tests.fakeslack._files import guess_mimetype
from tests.fakeslack._model import (
    MIB,
    Ephemeral,
    FakeChannel,
    FakeFile,
    FakeMessage,
    FakeUser,
    Json,
    new_id,
    new_trigger_id,
)
from tests.fakeslack._socket import Envelope
from tests.fakeslack._views import close_stack, view_payload

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

FILE_INPUT_LIMIT = 10 * MIB  # per file in a file_input (docs: file-input-element)
LEGACY_TOKEN = "fake-verification-token"  # the deprecated ``token`` field of payloads


class UsersMixin:
    @property
    def _host(self) -> FakeSlack:
        # Only FakeSlack mixes this in; mypy rejects subclass self-types, so narrow once here.
        return cast("FakeSlack", self)

    def trigger_for(self, user: FakeUser) -> str:
        """A fresh ``trigger_id`` for ``user`` (as a click would issue), valid 3 s."""
        fake = self._host
        trigger = new_trigger_id()
        fake.triggers[trigger] = (user.id, fake.clock())
        return trigger

    def _team(self) -> Json:
        fake = self._host
        return {"id": fake.team_id, "domain": fake.domain}

    async def wait_acked(self, env: Envelope, within: float = 5.0) -> Envelope:
        """Wait until the app acked ``env`` (or Slack gave up on it)."""
        fake = self._host
        await fake.wait_for(lambda: env.outcome is not None, within)
        return env

    # ----------------------------------------------------------------- content
    def upload_file(
        self, user: FakeUser, data: bytes, filename: str, mimetype: str | None = None
    ) -> FakeFile:
        """A file ``user`` uploaded in the client, not shared anywhere yet."""
        fake = self._host
        f = FakeFile(
            new_id("F"),
            filename,
            filename,
            mimetype if mimetype is not None else guess_mimetype(filename),
            user.id,
            data,
            created=int(fake.clock()),
            declared_length=len(data),
            uploaded=True,
            completed=True,
        )
        fake.files[f.id] = f
        return f

    async def post_message(
        self,
        user: FakeUser,
        channel: FakeChannel,
        text: str = "",
        *,
        files: list[FakeFile] | tuple[FakeFile, ...] = (),
        thread_ts: str | None = None,
    ) -> FakeMessage:
        """``user`` posts ``text`` (and ``files``) in ``channel``, joining it if needed."""
        fake = self._host
        channel.members.add(user.id)
        message = FakeMessage(channel.id, fake.new_ts(), user.id, text, thread_ts=thread_ts)
        message.files = list(files)
        fake.add_message(channel, message)
        await fake.notify()
        return message

    # ----------------------------------------------------------------- slash commands
    async def command(
        self,
        user: FakeUser,
        channel: FakeChannel,
        text: str = "",
        *,
        command: str = "/animate",
    ) -> Envelope:
        """``user`` types ``/animate text`` in ``channel`` (never in a thread: see below)."""
        fake = self._host
        if command not in fake.commands:
            raise ValueError(f"{command} is not a command of this app")
        channel.members.add(user.id)
        payload: Json = {
            "token": LEGACY_TOKEN,
            "team_id": fake.team_id,
            "team_domain": fake.domain,
            "channel_id": channel.id,
            "channel_name": channel.name if channel.kind.value != "im" else "directmessage",
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": fake.app_id,
            "is_enterprise_install": "false",
            "response_url": fake.hooks.issue(channel.id, user.id),
            "trigger_id": fake.trigger_for(user),
        }
        return await fake.socket.send("slash_commands", payload, accepts_response_payload=True)

    def command_in_thread(self, user: FakeUser, channel: FakeChannel) -> Ephemeral:
        """Slack refuses app commands in threads before the app hears of them (§3)."""
        fake = self._host
        note = Ephemeral(
            channel.id, user.id, "/animate is not supported in threads. Sorry!", [], None, "slack"
        )
        fake.ephemerals.append(note)
        return note

    # ----------------------------------------------------------------- modals
    async def submit_view(self, user: FakeUser, values: dict[str, Any] | None = None) -> Envelope:
        """Press Submit on ``user``'s top modal after filling ``values``.

        ``values`` maps block_id or action_id to a str (plain_text_input), an option value
        (static_select) or a list of :class:`FakeFile` (file_input, each ≤ 10 MB).
        """
        fake = self._host
        view = fake.open_view(user)
        if view is None:
            raise ValueError(f"{user.name} has no modal open")
        for given in (values or {}).values():
            if isinstance(given, list) and any(f.user != user.id for f in given):
                raise ValueError("a file_input only offers the user's own uploads")
            if isinstance(given, list) and any(len(f.data) > FILE_INPUT_LIMIT for f in given):
                raise ValueError("Slack's file_input refuses files over 10 MB")
        blocks = view.body.get("blocks", [])
        values = {**view.picks, **(values or {})}
        state = {"values": state_values(blocks, values, fake.file_payload)}
        for given in (values or {}).values():
            for f in given if isinstance(given, list) else []:
                f.bot_can_read = True  # file_input hands the file to the app (files:read)
        view.errors = {}
        payload: Json = {
            "type": "view_submission",
            "team": fake._team(),
            "user": user.ref(),
            "api_app_id": fake.app_id,
            "token": LEGACY_TOKEN,
            "trigger_id": fake.trigger_for(user),
            "view": view_payload(fake, view, state),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await fake.socket.send("interactive", payload, accepts_response_payload=True)

    async def choose(
        self, user: FakeUser, action_id: str, value: str, *, block_id: str | None = None
    ) -> Envelope | None:
        """Pick the option ``value`` in the select ``action_id`` (in ``block_id``, when action
        ids repeat across blocks) of ``user``'s top modal.

        The pick stays in the view's state. The app hears of it (``block_actions`` with a
        ``view`` container, the view's state and the ``selected_option``) only when the select
        is outside an input block or its input block has ``dispatch_action: true``.
        """
        fake = self._host
        view = fake.open_view(user)
        if view is None:
            raise ValueError(f"{user.name} has no modal open")
        blocks = view.body.get("blocks", [])
        found = [
            (b, e)
            for b, e in walk_elements(blocks)
            if e.get("action_id") == action_id and block_id in (None, b.get("block_id"))
        ]
        if not found:
            raise ValueError(f"no element {action_id!r} in the open modal")
        block, element = found[0]
        option = next((o for o in element.get("options") or [] if o.get("value") == value), None)
        if option is None:
            raise ValueError(f"{value!r} is not an option of {action_id!r}")
        view.picks[block["block_id"]] = value
        if block.get("type") == "input" and not block.get("dispatch_action"):
            return None
        state = {"values": state_values(blocks, view.picks, fake.file_payload, partial=True)}
        payload: Json = {
            "type": "block_actions",
            "user": user.ref(),
            "api_app_id": fake.app_id,
            "token": LEGACY_TOKEN,
            "container": {"type": "view", "view_id": view.id},
            "trigger_id": fake.trigger_for(user),
            "team": fake._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view_payload(fake, view, state),
            "actions": [
                {
                    "type": element.get("type"),
                    "action_id": action_id,
                    "block_id": block["block_id"],
                    "selected_option": option,
                    "action_ts": fake.new_ts(),
                }
            ],
            "state": state,
        }
        return await fake.socket.send("interactive", payload, accepts_response_payload=False)

    async def close_view(self, user: FakeUser) -> Envelope | None:
        """Press Close: the app hears ``view_closed`` only with ``notify_on_close``."""
        fake = self._host
        view = fake.open_view(user)
        if view is None:
            raise ValueError(f"{user.name} has no modal open")
        close_stack(fake, user.id)
        if not view.body.get("notify_on_close"):
            return None
        payload: Json = {
            "type": "view_closed",
            "team": fake._team(),
            "user": user.ref(),
            "api_app_id": fake.app_id,
            "token": LEGACY_TOKEN,
            "view": view_payload(fake, view),
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        return await fake.socket.send("interactive", payload, accepts_response_payload=False)

    # ----------------------------------------------------------------- messages
    @staticmethod
    def _channel_ref(channel: FakeChannel) -> Json:
        return {"id": channel.id, "name": channel.name}

    async def click(
        self,
        user: FakeUser,
        message: FakeMessage,
        action_id: str,
        *,
        value: str | None = None,
    ) -> Envelope:
        """Click the button ``action_id`` (and ``value``, if several share it) on ``message``."""
        fake = self._host
        found = [
            (b, e)
            for b, e in walk_elements(message.blocks)
            if e.get("action_id") == action_id and (value is None or e.get("value") == value)
        ]
        if not found:
            raise ValueError(f"no element {action_id!r} on message {message.ts}")
        block, element = found[0]
        channel = fake.channels[message.channel]
        action: Json = {
            "action_id": action_id,
            "block_id": block["block_id"],
            "type": element.get("type", "button"),
            "action_ts": fake.new_ts(),
        }
        for key in ("text", "value", "style"):
            if key in element:
                action[key] = element[key]
        payload: Json = {
            "type": "block_actions",
            "user": user.ref(),
            "api_app_id": fake.app_id,
            "token": LEGACY_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": channel.id,
                "is_ephemeral": False,
            },
            "trigger_id": fake.trigger_for(user),
            "team": fake._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": fake._channel_ref(channel),
            "message": fake.message_payload(message),
            "state": {"values": {}},
            "response_url": fake.hooks.issue(channel.id, user.id, message.ts),
            "actions": [action],
        }
        return await fake.socket.send("interactive", payload, accepts_response_payload=False)

    async def message_shortcut(
        self, user: FakeUser, message: FakeMessage, callback_id: str = "animate_image"
    ) -> Envelope:
        """``user`` picks the app's message shortcut from ``message``'s ⋮ menu (threads too)."""
        fake = self._host
        if callback_id not in fake.shortcuts:
            raise ValueError(f"{callback_id} is not a shortcut of this app")
        channel = fake.channels[message.channel]
        payload: Json = {
            "type": "message_action",
            "token": LEGACY_TOKEN,
            "action_ts": fake.new_ts(),
            "team": fake._team(),
            "user": user.ref(),
            "channel": fake._channel_ref(channel),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": fake.trigger_for(user),
            "response_url": fake.hooks.issue(channel.id, user.id),
            "message_ts": message.ts,
            "message": fake.message_payload(message),
        }
        return await fake.socket.send("interactive", payload, accepts_response_payload=False)

    async def send_event(self, event: Json) -> Envelope:
        """An Events API ``event_callback`` (auto-retried when unacked, unlike interactions)."""
        fake = self._host
        payload: Json = {
            "token": LEGACY_TOKEN,
            "team_id": fake.team_id,
            "api_app_id": fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(fake.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": fake.team_id,
                    "user_id": fake.bot_user.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await fake.socket.send(
            "events_api", payload, accepts_response_payload=False, retry_attempt=0, retry_reason=""
        )
