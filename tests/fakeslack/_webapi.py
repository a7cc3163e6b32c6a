"""The Web API endpoint: ``/api/<method>`` argument parsing, tokens, scopes, faults, rate limits.

Slack takes arguments from the query string, a form body or a JSON body (slack_sdk uses all
three), and the token from ``Authorization: Bearer`` or a ``token`` argument. Checks run in
Slack's order as far as the references tell: method, token, token type, scope, then limits.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakeslack import _chat, _files, _team, _views  # noqa: F401 - they register methods
from tests.fakeslack._model import Json, Recorded
from tests.fakeslack._registry import METHODS, ApiError

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack


def J(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


class WebApi:
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    @staticmethod
    async def _args(request: web.Request) -> Json:
        args: Json = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                args.update(body if isinstance(body, dict) else {})
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args

    @staticmethod
    def _token(request: web.Request, args: Json) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ").strip()
        token = args.pop("token", None)
        return str(token) if token else None

    async def handle(self, request: web.Request) -> web.Response:
        fake = self.fake
        name = request.match_info["method"]
        args = await self._args(request)
        rec = Recorded(name, args, self._token(request, args), request.method)
        fake.log.append(rec)
        try:
            await fake.tick()
            status, body, headers = await self._call(rec)
        except ApiError as err:
            status, body, headers = 200, err.body(), {}
        rec.status, rec.response = status, body
        headers["X-OAuth-Scopes"] = ",".join(sorted(fake.bot_scopes))  # Bolt reads it
        response = J(body, status, headers)
        await fake.notify()
        return response

    def _fault(self, rec: Recorded) -> tuple[int, Json, dict[str, str]] | None:
        for fault in self.fake.faults:
            if fault.count > 0 and fault.method == rec.method:
                fault.count -= 1
                body: Json = {"ok": False, "error": fault.error, **(fault.extra or {})}
                if fault.error == "ratelimited":
                    return 429, body, {"Retry-After": str(fault.retry_after)}
                return fault.status, body, {}
        return None

    async def _call(self, rec: Recorded) -> tuple[int, Json, dict[str, str]]:
        fake = self.fake
        if rec.method == "files.upload":
            raise ApiError("method_deprecated")  # retired 2025-11-12 (reference §7.1)
        method = METHODS.get(rec.method)
        if method is None:
            raise ApiError("unknown_method", req_method=rec.method)
        token = rec.token
        if token is None:
            raise ApiError("not_authed")
        if token in fake.revoked:
            raise ApiError("token_revoked")
        if token not in (fake.bot_token, fake.app_token):
            raise ApiError("invalid_auth")
        if (method.kind == "app") != (token == fake.app_token):
            raise ApiError("not_allowed_token_type")
        if method.kind == "app" and "connections:write" not in fake.app_scopes:
            raise ApiError("missing_scope", needed="connections:write", provided="")
        if method.scope is not None:
            fake.need(method.scope)
        if (injected := self._fault(rec)) is not None:
            return injected
        channel = rec.args.get("channel") or rec.args.get("channel_id")
        retry_after = fake.limiter.check(rec.method, str(channel or ""), fake.clock())
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        return 200, {"ok": True, **await method.handler(fake, rec.args)}, {}
