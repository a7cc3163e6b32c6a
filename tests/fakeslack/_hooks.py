"""The fake's non-API URLs: upload URLs, private file downloads and ``response_url``s.

- ``POST /upload/v1/<ticket>``: the bytes (raw or multipart), 200 ``OK - <size>`` in text/plain
  (slack_sdk reads text/plain bodies as-is; it sends no token here) (reference §7.1).
- ``GET /files-pri/<team>-<file>/[download/]<name>``: needs ``Authorization: Bearer xoxb-…`` with
  ``files:read``; anything else gets Slack's HTML sign-in page with status 200 (§5).
- ``POST /hooks/<token>``: a ``response_url`` (30 min, 5 uses): ephemeral or in_channel replies,
  ``replace_original``/``delete_original`` (§3, §8).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakeslack._blocks import check_message_blocks
from tests.fakeslack._model import MIB, Ephemeral, FakeMessage, Json
from tests.fakeslack._registry import ApiError

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

RESPONSE_URL_LIFETIME = 30 * 60.0
RESPONSE_URL_USES = 5
LOGIN_PAGE = """<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">
<title>Slack</title></head><body class="signin"><h1>Sign in to Fake Workspace</h1>
<form id="signin_form" action="/signin" method="post"><input type="email" name="email">
<button type="submit">Sign In</button></form></body></html>"""


@dataclass
class ResponseHook:
    channel: str
    user: str
    created: float
    message_ts: str | None = None  # the message a button sat on
    uses: int = 0


class Hooks:
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.upload_tickets: dict[str, str] = {}  # ticket -> file id
        self.max_upload_size = 1024 * MIB
        self.response_hooks: dict[str, ResponseHook] = {}
        #: (file id, outcome) of every download attempt: "bytes" or "login_page"
        self.downloads: list[tuple[str, str]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/upload/v1/{ticket}", self._upload)
        app.router.add_get("/files-pri/{team}-{fid}/{name}", self._download)
        app.router.add_get("/files-pri/{team}-{fid}/download/{name}", self._download)
        app.router.add_post("/hooks/{token}", self._respond)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------------- uploads
    async def _upload(self, request: web.Request) -> web.Response:
        fid = self.upload_tickets.pop(request.match_info["ticket"], None)
        f = self.fake.files.get(fid or "")
        if f is None:
            return web.Response(status=404, text="Not Found")
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            part = await reader.next()
            data = await part.read() if part is not None else b""  # type: ignore[union-attr]  # BodyPartReader
        else:
            data = await request.read()
        f.data, f.uploaded = bytes(data), True
        await self.fake.notify()
        return web.Response(text=f"OK - {len(f.data)}", content_type="text/plain")

    # ----------------------------------------------------------------- downloads
    async def _download(self, request: web.Request) -> web.Response:
        fake = self.fake
        f = fake.files.get(request.match_info["fid"])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        allowed = (
            f is not None
            and token == fake.bot_token
            and token not in fake.revoked
            and "files:read" in fake.bot_scopes
            and f.bot_can_read
        )
        if not allowed or f is None:
            self.downloads.append((request.match_info["fid"], "login_page"))
            await fake.notify()
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        self.downloads.append((f.id, "bytes"))
        await fake.notify()
        headers = {"Content-Disposition": f'attachment; filename="{f.name}"'}
        return web.Response(body=f.data, content_type=f.mimetype, headers=headers)

    # ----------------------------------------------------------------- response_url
    def issue(self, channel: str, user: str, message_ts: str | None = None) -> str:
        token = secrets.token_urlsafe(16)
        self.response_hooks[token] = ResponseHook(channel, user, self.fake.clock(), message_ts)
        return f"{self.fake.base}/hooks/{token}"

    async def _respond(self, request: web.Request) -> web.Response:
        fake = self.fake
        hook = self.response_hooks.get(request.match_info["token"])
        if hook is None or fake.clock() - hook.created > RESPONSE_URL_LIFETIME:
            return web.Response(status=404, text="expired_url")
        if hook.uses >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        hook.uses += 1
        body: Json = await request.json()
        try:
            self._apply(hook, body)
        except ApiError as err:
            return web.Response(status=400, text=err.error)
        finally:
            await fake.notify()
        return web.Response(text="ok")

    def _apply(self, hook: ResponseHook, body: Json) -> None:
        fake = self.fake
        channel = fake.channels[hook.channel]
        original = channel.messages.get(hook.message_ts) if hook.message_ts else None
        if body.get("delete_original") and original is not None:
            del channel.messages[original.ts]
            return
        text = str(body.get("text") or "")
        blocks = check_message_blocks(body.get("blocks"))
        if body.get("replace_original") and original is not None:
            original.edits.append(
                {"text": original.text, "blocks": original.blocks, "edited_ts": fake.new_ts()}
            )
            original.text, original.blocks = text, blocks
            return
        thread_ts = str(body["thread_ts"]) if body.get("thread_ts") else None
        if body.get("response_type") == "in_channel":
            message = FakeMessage(channel.id, fake.new_ts(), fake.bot_user.id, text, blocks)
            message.thread_ts, message.bot_id, message.app_id = thread_ts, fake.bot_id, fake.app_id
            fake.add_message(channel, message)
        else:
            fake.ephemerals.append(
                Ephemeral(channel.id, hook.user, text, blocks, thread_ts, "response_url")
            )
