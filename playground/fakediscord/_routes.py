"""REST routes of the fake Discord (reference §B.2, table rows 1–18)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from playground.fakediscord._model import (
    CREATE_PUBLIC_THREADS,
    READ_MESSAGE_HISTORY,
    ChannelType,
    FakeChannel,
    FakeInteraction,
    Json,
    Recorded,
    snowflake,
)
from playground.fakediscord._server import J, error

if TYPE_CHECKING:
    from playground.fakediscord._server import FakeDiscord

Route = Callable[..., Awaitable[web.Response]]
ROUTES: list[tuple[str, re.Pattern[str], Route]] = []
TOKEN_LIFETIME = 15 * 60.0
FIRST_RESPONSE_DEADLINE = 3.0
EPHEMERAL = 1 << 6
LOADING = 1 << 7


def route(method: str, pattern: str) -> Callable[[Route], Route]:
    def deco(fn: Route) -> Route:
        ROUTES.append((method, re.compile(pattern), fn))
        return fn

    return deco


def _body(rec: Recorded) -> Json:
    return rec.json if isinstance(rec.json, dict) else {}


# ------------------------------------------------------------------------- login and sync
@route("GET", r"/users/@me")
async def me(fake: FakeDiscord, rec: Recorded) -> web.Response:
    return J(fake.bot_user_payload())


@route("GET", r"/oauth2/applications/@me")
async def application(fake: FakeDiscord, rec: Recorded) -> web.Response:
    return J(
        {
            "id": str(fake.app_id),
            "name": "animate-bot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": fake.owner.payload(),
            "verify_key": "00",
            "flags": 0,
        }
    )


async def _sync(fake: FakeDiscord, rec: Recorded, scope: str) -> web.Response:
    commands = rec.json if isinstance(rec.json, list) else []
    fake.synced[scope] = commands
    defaults = {"type": 1, "description": "", "options": [], "dm_permission": True, "nsfw": False}
    out = [
        {
            **defaults,
            **c,
            "id": str(snowflake()),
            "application_id": str(fake.app_id),
            "version": "1",
        }
        for c in commands
    ]
    return J(out)


@route("PUT", r"/applications/(?P<app>\d+)/commands")
async def sync_global(fake: FakeDiscord, rec: Recorded, app: str) -> web.Response:
    return await _sync(fake, rec, "global")


@route("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands")
async def sync_guild(fake: FakeDiscord, rec: Recorded, app: str, guild: str) -> web.Response:
    return await _sync(fake, rec, guild)


# ------------------------------------------------------------------------- interactions
def _interaction(fake: FakeDiscord, token: str) -> FakeInteraction | None:
    return next((i for i in fake.interactions.values() if i.token == token), None)


@route("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback")
async def callback(fake: FakeDiscord, rec: Recorded, iid: str, token: str) -> web.Response:
    inter = fake.interactions.get(int(iid))
    if inter is None or inter.token != token:
        return error(404, 10062, "Unknown interaction")
    if fake.clock - inter.created_at > FIRST_RESPONSE_DEADLINE:
        return error(404, 10062, "Unknown interaction")
    if inter.responses:
        return error(400, 40060, "Interaction has already been acknowledged.")
    body = _body(rec)
    kind = int(body["type"])
    data: Json = body.get("data") or {}
    if kind in (4, 5, 7) and (problem := fake.check_body(inter.channel, rec)) is not None:
        return problem
    inter.responses.append(body)
    out: Json = {"interaction": {"id": iid, "type": inter.type}}
    if kind in (4, 5):
        flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
        msg = fake.new_message(inter.channel, {**data, "flags": flags}, rec.files, token=token)
        inter.original_id = msg.id
        out["interaction"] |= {
            "response_message_id": str(msg.id),
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(flags & EPHEMERAL),
        }
        out["resource"] = {"type": kind, "message": msg.payload(fake.cdn)}
    elif kind == 7:
        target = inter.payload.get("message", {}).get("id")
        edited = fake.find_message(int(target)) if target else None
        if edited is not None:
            fake.apply_edit(edited, data, rec.files)
    return J(out)


def _webhook_interaction(
    fake: FakeDiscord, app: str, token: str
) -> tuple[FakeInteraction | None, web.Response | None]:
    inter = _interaction(fake, token)
    if inter is None or app != str(fake.app_id):
        return None, error(404, 10015, "Unknown Webhook")
    if fake.clock - inter.created_at > TOKEN_LIFETIME:
        return None, error(401, 50027, "Invalid Webhook Token")
    return inter, None


@route("GET", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)")
async def webhook_get(fake: FakeDiscord, rec: Recorded, app: str, token: str, mid: str) -> Any:
    inter, problem = _webhook_interaction(fake, app, token)
    if inter is None:
        return problem
    msg_id = inter.original_id if mid == "@original" else int(mid)
    msg = fake.find_message(msg_id) if msg_id else None
    if msg is None:
        return error(404, 10008, "Unknown Message")
    return J(msg.payload(fake.cdn))


@route("PATCH", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)")
async def webhook_edit(fake: FakeDiscord, rec: Recorded, app: str, token: str, mid: str) -> Any:
    inter, problem = _webhook_interaction(fake, app, token)
    if inter is None:
        return problem
    msg_id = inter.original_id if mid == "@original" else int(mid)
    msg = fake.find_message(msg_id) if msg_id else None
    if msg is None:
        return error(404, 10008, "Unknown Message")
    if (bad := fake.check_body(inter.channel, rec)) is not None:
        return bad
    fake.apply_edit(msg, _body(rec), rec.files)
    msg.flags &= ~LOADING
    return J(msg.payload(fake.cdn))


@route("DELETE", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)")
async def webhook_delete(fake: FakeDiscord, rec: Recorded, app: str, token: str, mid: str) -> Any:
    inter, problem = _webhook_interaction(fake, app, token)
    if inter is None:
        return problem
    msg_id = inter.original_id if mid == "@original" else int(mid)
    fake.channels[inter.channel.id].messages.pop(msg_id or 0, None)
    return web.Response(status=204)


@route("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)")
async def followup(fake: FakeDiscord, rec: Recorded, app: str, token: str) -> Any:
    inter, problem = _webhook_interaction(fake, app, token)
    if inter is None:
        return problem
    if not inter.responses:
        return error(404, 10015, "Unknown Webhook")
    if (bad := fake.check_body(inter.channel, rec)) is not None:
        return bad
    original = fake.find_message(inter.original_id) if inter.original_id else None
    if original is not None and original.flags & LOADING:
        # the first followup after a "thinking…" defer replaces it (docs: §Create Followup)
        body = {k: v for k, v in _body(rec).items() if k != "flags"}
        fake.apply_edit(original, body, rec.files)
        original.flags &= ~LOADING
        inter.followups.append(original.id)
        return J(original.payload(fake.cdn))
    msg = fake.new_message(inter.channel, _body(rec), rec.files, token=token)
    inter.followups.append(msg.id)
    return J(msg.payload(fake.cdn))


# ------------------------------------------------------------------------- channels
def _channel(fake: FakeDiscord, cid: str) -> FakeChannel | None:
    return fake.channels.get(int(cid))


@route("GET", r"/channels/(?P<cid>\d+)")
async def get_channel(fake: FakeDiscord, rec: Recorded, cid: str) -> web.Response:
    channel = _channel(fake, cid)
    if channel is None:
        return error(404, 10003, "Unknown Channel")
    return J(channel.payload())


@route("POST", r"/channels/(?P<cid>\d+)/messages")
async def create_message(fake: FakeDiscord, rec: Recorded, cid: str) -> web.Response:
    channel = _channel(fake, cid)
    if channel is None:
        return error(404, 10003, "Unknown Channel")
    if (problem := fake.check_post(channel, rec)) is not None:
        return problem
    msg = fake.new_message(channel, _body(rec), rec.files)
    return J(msg.payload(fake.cdn))


@route("GET", r"/channels/(?P<cid>\d+)/messages")
async def history(fake: FakeDiscord, rec: Recorded, cid: str) -> web.Response:
    channel = _channel(fake, cid)
    if channel is None:
        return error(404, 10003, "Unknown Channel")
    if not fake.effective_permissions(channel) & READ_MESSAGE_HISTORY:
        return error(403, 50001, "Missing Access")
    limit = int(rec.query.get("limit", "50"))
    before = int(rec.query.get("before", str(1 << 63)))
    msgs = sorted((m for m in channel.messages.values() if m.id < before), key=lambda m: -m.id)
    return J([m.payload(fake.cdn) for m in msgs[:limit]])


@route("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)")
async def get_message(fake: FakeDiscord, rec: Recorded, cid: str, mid: str) -> web.Response:
    channel = _channel(fake, cid)
    if channel is None:
        return error(404, 10003, "Unknown Channel")
    if not fake.effective_permissions(channel) & READ_MESSAGE_HISTORY:
        return error(403, 50001, "Missing Access")
    msg = channel.messages.get(int(mid))
    if msg is None:
        return error(404, 10008, "Unknown Message")
    return J(msg.payload(fake.cdn))


@route("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)")
async def edit_message(fake: FakeDiscord, rec: Recorded, cid: str, mid: str) -> web.Response:
    channel = _channel(fake, cid)
    if channel is None:
        return error(404, 10003, "Unknown Channel")
    msg = channel.messages.get(int(mid))
    if msg is None:
        return error(404, 10008, "Unknown Message")
    if msg.author["id"] != str(fake.bot_id):
        return error(403, 50005, "Cannot edit a message authored by another user")
    if (problem := fake.check_body(channel, rec)) is not None:
        return problem
    fake.apply_edit(msg, _body(rec), rec.files)
    msg.flags &= ~LOADING
    return J(msg.payload(fake.cdn))


@route("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads")
async def thread_from_message(fake: FakeDiscord, rec: Recorded, cid: str, mid: str) -> Any:
    parent = _channel(fake, cid)
    if parent is None:
        return error(404, 10003, "Unknown Channel")
    if parent.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
        return error(400, 50024, "Cannot execute action on this channel type")
    if not fake.effective_permissions(parent) & CREATE_PUBLIC_THREADS:
        return error(403, 50013, "Missing Permissions")
    if int(mid) not in parent.messages:
        return error(404, 10008, "Unknown Message")
    if int(mid) in fake.channels:
        return error(400, 160004, "A thread has already been created for this message")
    name = str(_body(rec).get("name") or "")
    if not 1 <= len(name) <= 100:
        return error(400, 50035, "Invalid Form Body (name)")
    thread = FakeChannel(
        int(mid), ChannelType.PUBLIC_THREAD, name, guild_id=parent.guild_id, parent_id=parent.id
    )
    thread.bot_permissions = parent.bot_permissions
    fake.channels[thread.id] = thread
    return J(thread.payload())


@route("POST", r"/channels/(?P<cid>\d+)/typing")
async def typing(fake: FakeDiscord, rec: Recorded, cid: str) -> web.Response:
    return web.Response(status=204)
