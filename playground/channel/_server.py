"""The playground's page server: a small Discord client for one channel of the fake Discord.

It serves the page (``static/``, no build step, nothing from a CDN) and a JSON API the page
calls. Everything a user does becomes what the Discord client would send: a slash-command, an
autocomplete or a button interaction injected into the fake Discord's gateway, in the locale
the page is set to. What the page shows is read back from the fake's channels, so the page sees
exactly the messages the bot made through its normal path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from playground.channel import _view
from playground.fakediscord import (
    FakeAttachment,
    FakeChannel,
    FakeDiscord,
    FakeInteraction,
    FakeUser,
)

STATIC = Path(__file__).parent / "static"
LOCALES = ("en-US", "zh-CN")
#: how long a state request waits for a change before answering with the same state
LONG_POLL = 20.0
#: how long a request waits for the bot's answer to an autocomplete
ANSWER_WAIT = 5.0
MODAL, TEXT_INPUT = 9, 4  # an interaction answer that opens a form; a form's text field
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
#: option types of an application command (Discord API: ApplicationCommandOptionType)
STRING, INTEGER, BOOLEAN, NUMBER, ATTACHMENT = 3, 4, 5, 10, 11


class BadRequest(Exception):
    """What the page sent cannot become an interaction (a message for the page)."""


class ChannelPage:
    """``async with ChannelPage(fake, channel, user).serve(host, port) as page:``."""

    def __init__(self, fake: FakeDiscord, channel: FakeChannel, user: FakeUser) -> None:
        self.fake = fake
        self.channel = channel
        self.user = user
        self.port = 0
        self._closing = asyncio.Event()
        #: clicks the bot answered with a form (Extend), by interaction id, until it is sent
        self._forms: dict[int, FakeInteraction] = {}

    # ------------------------------------------------------------------ lifecycle
    def app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/info", self._info)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/animate", self._animate)
        app.router.add_post("/api/autocomplete", self._autocomplete)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/modal", self._modal)
        app.router.add_get("/attachments/{aid}/{filename}", self._attachment)
        return app

    @contextlib.asynccontextmanager
    async def serve(self, host: str, port: int) -> AsyncIterator[ChannelPage]:
        """Listen on ``host:port`` (0: any free port, then read ``self.port``)."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            self.port = int(runner.addresses[0][1])
            yield self
        finally:
            self._closing.set()
            await runner.cleanup()

    # ------------------------------------------------------------------ the page
    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    def _command(self, name: str) -> dict[str, Any] | None:
        for commands in self.fake.synced.values():
            for command in commands:
                if command.get("name") == name and command.get("type", 1) == 1:
                    return command
        return None

    async def _info(self, request: web.Request) -> web.Response:
        guild = self.fake.guilds.get(self.channel.guild_id or 0)
        return web.json_response(
            {
                "guild": guild.name if guild else "",
                "channel": self.channel.name,
                "user": self.user.name,
                "locales": list(LOCALES),
                # the command as the bot synced it: options, choices, ranges, translations
                "command": self._command("animate"),
            }
        )

    def version(self) -> int:
        """Changes whenever the bot made a request to the fake (every change of a message)."""
        return len(self.fake.log)

    async def _state(self, request: web.Request) -> web.Response:
        after = request.query.get("after")
        if after is not None and after.isdigit() and int(after) == self.version():
            changed = asyncio.ensure_future(
                self.fake.wait_for(lambda: self.version() != int(after), within=LONG_POLL)
            )
            closing = asyncio.ensure_future(self._closing.wait())
            try:
                # a page left open must not hold the server's shutdown for a whole long poll
                await asyncio.wait({changed, closing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (changed, closing):
                    waiter.cancel()
                if changed.done() and not changed.cancelled():
                    changed.exception()  # TimeoutError after LONG_POLL: answer, unchanged
        locale = request.query.get("locale", LOCALES[0])
        reader = self.reader(locale if locale in LOCALES else LOCALES[0])
        return web.json_response(
            {"version": self.version(), "messages": _view.channel(self.fake, self.channel, reader)}
        )

    def reader(self, locale: str) -> _view.Reader:
        return _view.Reader(locale, names={str(self.user.id): self.user.name})

    # ------------------------------------------------------------------ interactions
    def _locale(self, value: object) -> str:
        if value not in LOCALES:
            raise BadRequest(f"locale must be one of {', '.join(LOCALES)}")
        return str(value)

    def _as_you(self, locale: str) -> FakeUser:
        # the interaction's ``locale`` is the language of the user's Discord client
        self.user.locale = locale
        return self.user

    async def _animate(self, request: web.Request) -> web.Response:
        command = self._command("animate")
        if command is None:
            return _problem("the bot has not registered /animate yet; wait a moment", 503)
        form = await request.post()
        try:
            locale = self._locale(form.get("locale"))
            options = self._options(command, form)
        except BadRequest as exc:
            return _problem(str(exc))
        inter = await self.fake.slash("animate", self.channel, self._as_you(locale), named=options)
        return web.json_response({"interaction": str(inter.id)})

    def _options(self, command: dict[str, Any], form: Any) -> dict[str, Any]:
        """The form's fields as typed option values, as the Discord client sends them."""
        out: dict[str, Any] = {}
        for option in command.get("options") or []:
            name, kind = option["name"], option["type"]
            value = form.get(name)
            if kind == ATTACHMENT:
                if isinstance(value, web.FileField):
                    out[name] = self._upload(value)
                elif option.get("required"):
                    raise BadRequest(f"attach a file for {name}")
                continue
            if value is None or value == "":
                if option.get("required"):
                    raise BadRequest(f"{name} is required")
                continue
            out[name] = _typed(name, kind, str(value))
        return out

    def _upload(self, field: web.FileField) -> FakeAttachment:
        data = field.file.read()
        return self.fake.add_attachment(data, field.filename or "image.png", field.content_type)

    async def _autocomplete(self, request: web.Request) -> web.Response:
        body = await _json(request)
        try:
            locale = self._locale(body.get("locale"))
        except BadRequest as exc:
            return _problem(str(exc))
        focused = str(body.get("option") or "")
        value = str(body.get("value") or "")
        command = self._command("animate") or {}
        if not any(
            o["name"] == focused and o.get("autocomplete") for o in command.get("options") or []
        ):
            return _problem(f"/animate has no autocomplete option {focused!r}")
        user = self._as_you(locale)
        inter = await self.fake.autocomplete(
            "animate", self.channel, user, focused, **{focused: value}
        )
        try:
            await self.fake.wait_for(lambda: inter.responses, within=ANSWER_WAIT)
        except TimeoutError:
            return _problem("the bot did not answer the autocomplete", 504)
        return web.json_response({"choices": _choices(inter)})

    async def _click(self, request: web.Request) -> web.Response:
        body = await _json(request)
        try:
            locale = self._locale(body.get("locale"))
        except BadRequest as exc:
            return _problem(str(exc))
        raw_id = str(body.get("message_id") or "")
        msg = self.fake.find_message(int(raw_id)) if raw_id.isdigit() else None
        custom_id = str(body.get("custom_id") or "")
        if msg is None or not any(
            b["custom_id"] == custom_id for b in _view.message(self.fake, msg)["buttons"]
        ):
            return _problem("that button is not on that message", 404)
        inter = await self.fake.click(msg, custom_id, self._as_you(locale))
        try:
            await self.fake.wait_for(lambda: inter.responses, within=ANSWER_WAIT)
        except TimeoutError:
            return _problem("the bot did not answer the click", 504)
        answer: dict[str, Any] = {"interaction": str(inter.id)}
        if inter.responses[0].get("type") == MODAL:
            # the bot asks for a form (Extend): the page shows it, /api/modal sends it back
            self._forms[inter.id] = inter
            answer["modal"] = _form(inter.responses[0]["data"])
        return web.json_response(answer)

    async def _modal(self, request: web.Request) -> web.Response:
        """A form the bot opened, filled in on the page: one value per text input, in order."""
        body = await _json(request)
        raw_id = str(body.get("interaction") or "")
        opened = self._forms.pop(int(raw_id), None) if raw_id.isdigit() else None
        values = body.get("values")
        if opened is None:
            return _problem("no form of the bot is open under that id", 404)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            self._forms[opened.id] = opened
            return _problem("values must be a list of texts, one per field")
        inter = await self.fake.submit_modal(opened, values)
        return web.json_response({"interaction": str(inter.id)})

    # ------------------------------------------------------------------ attachments
    async def _attachment(self, request: web.Request) -> web.Response:
        """The fake's stored file, with byte ranges (a <video> seeks with them)."""
        aid = request.match_info["aid"]
        att = self.fake.attachments.get(int(aid)) if aid.isdigit() else None
        if att is None:
            return web.Response(status=404, text="Not Found")
        ctype = att.content_type or "application/octet-stream"
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store"}
        size = len(att.data)
        match = _RANGE.match(request.headers.get("Range", ""))
        if match is None:
            return web.Response(body=att.data, content_type=ctype, headers=headers)
        first, last = match.groups()
        start = int(first) if first else max(size - int(last or 0), 0)
        end = min(int(last), size - 1) if first and last else size - 1
        if start >= size or start > end:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return web.Response(
            status=206, body=att.data[start : end + 1], content_type=ctype, headers=headers
        )


def _typed(name: str, kind: int, raw: str) -> Any:
    try:
        if kind == INTEGER:
            return int(raw)
        if kind == NUMBER:
            return float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    if kind == BOOLEAN:
        return raw.lower() in ("true", "1", "yes", "on")
    return raw


def _form(data: dict[str, Any]) -> dict[str, Any]:
    """A modal's title and text inputs, as the page draws them (action rows or labels)."""
    inputs = []
    for comp in data.get("components") or []:
        inner = comp["components"][0] if comp.get("type") == 1 else comp.get("component")
        if not inner or inner.get("type") != TEXT_INPUT:
            continue
        inputs.append(
            {
                "label": comp.get("label") or inner.get("label") or "",
                "placeholder": inner.get("placeholder") or "",
                "paragraph": inner.get("style") == 2,
                "required": inner.get("required", True),
                "max_length": inner.get("max_length"),
                "value": inner.get("value") or "",
            }
        )
    return {"title": data.get("title") or "", "inputs": inputs}


def _choices(inter: FakeInteraction) -> list[dict[str, Any]]:
    answer = inter.responses[0]
    if int(answer.get("type", 0)) != 8:  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        return []
    return list((answer.get("data") or {}).get("choices") or [])


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _problem(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)
