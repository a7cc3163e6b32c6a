"""INTERACTION_CREATE payloads (reference §B.5) and the helpers that inject them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from playground.fakediscord._model import (
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    Json,
    snowflake,
)

if TYPE_CHECKING:
    from playground.fakediscord._gateway import Gateway

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
_OPTION_TYPES: list[tuple[type, int]] = [(bool, 5), (int, 4), (float, 10), (str, 3)]


@dataclass(frozen=True)
class Role:
    """A role picked in a role option (``FakeGuild.roles`` names it)."""

    id: int
    name: str

    def payload(self) -> Json:
        return {
            "id": str(self.id), "name": self.name, "permissions": "0", "position": 1,
            "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
        }  # fmt: skip


def _option(name: str, value: Any, resolved: Json, cdn: str) -> Json:
    if isinstance(value, FakeAttachment):
        resolved.setdefault("attachments", {})[str(value.id)] = value.payload(cdn, ephemeral=True)
        return {"name": name, "type": 11, "value": str(value.id)}
    if isinstance(value, FakeChannel):
        resolved.setdefault("channels", {})[str(value.id)] = {
            **value.payload(),
            "permissions": "0",
        }
        return {"name": name, "type": 7, "value": str(value.id)}
    if isinstance(value, Role):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return {"name": name, "type": 8, "value": str(value.id)}
    kind = next(code for py, code in _OPTION_TYPES if isinstance(value, py))
    return {"name": name, "type": kind, "value": value}


class _Host(Protocol):
    """What the mixin needs from :class:`FakeDiscord` (a protocol self-type, as mypy advises)."""

    app_id: int
    clock: float
    interactions: dict[int, FakeInteraction]
    channels: dict[int, FakeChannel]
    gateway: Gateway

    @property
    def cdn(self) -> str: ...

    def effective_permissions(self, channel: FakeChannel) -> int: ...

    async def _inject(
        self,
        kind: int,
        channel: FakeChannel,
        user: FakeUser,
        data: Json | None,
        extra: Json | None = None,
        *,
        attachment_size_limit: int = ...,
    ) -> FakeInteraction: ...


class InteractionsMixin:
    """Methods of :class:`FakeDiscord` that play a user clicking around in the Discord client."""

    async def _inject(
        self: _Host,
        kind: int,
        channel: FakeChannel,
        user: FakeUser,
        data: Json | None,
        extra: Json | None = None,
        *,
        attachment_size_limit: int = 10 * 1024 * 1024,
    ) -> FakeInteraction:
        iid = snowflake()
        token = "itok-" + secrets.token_hex(8)
        payload: Json = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": kind,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "app_permissions": str(self.effective_permissions(channel)),
            "locale": user.locale,
            "entitlements": [],
            "attachment_size_limit": attachment_size_limit,
        }
        if data is not None:
            payload["data"] = data
        if channel.guild_id is not None:
            payload |= {
                "guild_id": str(channel.guild_id),
                "guild_locale": "en-US",
                "member": user.member_payload(),
                "context": 0,
                "authorizing_integration_owners": {"0": str(channel.guild_id)},
            }
        else:
            payload |= {"user": user.payload(), "context": 1}
        payload |= extra or {}
        inter = FakeInteraction(iid, token, kind, channel, user, self.clock, payload)
        self.interactions[iid] = inter
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return inter

    async def slash(
        self: _Host,
        name: str,
        channel: FakeChannel,
        user: FakeUser,
        *,
        subcommand: str | None = None,
        named: dict[str, Any] | None = None,
        **options: Any,
    ) -> FakeInteraction:
        """Run ``/name`` (``/name subcommand`` when given) with ``options``; ``named`` holds
        options whose names clash with this method's own (``channel``, ``user``)."""
        resolved: Json = {}
        given = {**options, **(named or {})}
        opts = [_option(k, v, resolved, self.cdn) for k, v in given.items() if v is not None]
        if subcommand is not None:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data: Json = {"id": str(snowflake()), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        return await self._inject(APPLICATION_COMMAND, channel, user, data)

    async def autocomplete(
        self: _Host,
        name: str,
        channel: FakeChannel,
        user: FakeUser,
        focused: str,
        **options: Any,
    ) -> FakeInteraction:
        resolved: Json = {}
        opts = [_option(k, v, resolved, self.cdn) for k, v in options.items()]
        for opt in opts:
            if opt["name"] == focused:
                opt["focused"] = True
        data: Json = {"id": str(snowflake()), "name": name, "type": 1, "options": opts}
        return await self._inject(AUTOCOMPLETE, channel, user, data)

    async def message_command(
        self: _Host,
        name: str,
        channel: FakeChannel,
        user: FakeUser,
        target: FakeMessage,
    ) -> FakeInteraction:
        data: Json = {
            "id": str(snowflake()),
            "name": name,
            "type": 3,
            "target_id": str(target.id),
            "resolved": {"messages": {str(target.id): target.payload(self.cdn)}},
        }
        return await self._inject(APPLICATION_COMMAND, channel, user, data)

    async def submit_modal(
        self: _Host,
        opened_by: FakeInteraction,
        values: list[str],
    ) -> FakeInteraction:
        """Fill the modal the bot opened with ``values`` (one per text input, in order)."""
        modal = opened_by.responses[-1]
        if modal["type"] != 9:
            raise ValueError(f"interaction answered {modal['type']}, not a modal")
        answers = iter(values)
        rows: list[Json] = []
        for comp in modal["data"]["components"]:
            if comp["type"] == 1:  # action row holding a text input
                inner = comp["components"][0]
                filled = {"type": 4, "custom_id": inner["custom_id"], "value": next(answers)}
                rows.append({"type": 1, "components": [filled]})
            elif comp["type"] == 18:  # label wrapping a text input
                inner = comp["component"]
                filled = {"type": 4, "custom_id": inner["custom_id"], "value": next(answers)}
                rows.append({"type": 18, "component": filled})
        data: Json = {"custom_id": modal["data"]["custom_id"], "components": rows}
        return await self._inject(MODAL_SUBMIT, opened_by.channel, opened_by.user, data)

    async def click(
        self: _Host,
        message: FakeMessage,
        custom_id: str,
        user: FakeUser,
    ) -> FakeInteraction:
        channel = self.channels[message.channel_id]
        data: Json = {"custom_id": custom_id, "component_type": 2}
        extra = {"message": message.payload(self.cdn)}
        return await self._inject(MESSAGE_COMPONENT, channel, user, data, extra)
