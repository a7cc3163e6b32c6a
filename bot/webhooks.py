"""``POST /dashscope/events``: DashScope's task-finish events, pushed by EventBridge (§14).

Authentication: the ``EVENTS_TOKEN`` as an ``x-api-key`` header or as the password of HTTP
Basic auth — the two ways an EventBridge API-destination connection attaches a secret
(``API_KEY_AUTH``, ``BASIC_AUTH``). Anything else is refused with 401 before the body is read:
an unauthenticated body is never trusted, not even parsed.

An accepted event is handed to the engine (``offer``: in memory, synchronous) and the worker is
woken; the answer goes back at once, so EventBridge never waits on the engine and never retries
a slow answer. Duplicates, replays, events for tasks that are not ours and other event types
are acknowledged (200) and ignored; a body that is not an event at all gets 400.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping

from aiohttp import BasicAuth, web

from bot.web import Route
from core.domain.tasks import TaskEvent
from providers.eventbridge import MalformedEvent, parse_event

log = logging.getLogger(__name__)

PATH = "/dashscope/events"
#: the header an ``API_KEY_AUTH`` connection is set up to send (README, "Push")
API_KEY_HEADER = "x-api-key"


def authorized(headers: Mapping[str, str], token: str) -> bool:
    """The token came as ``x-api-key`` or as the Basic auth password (compared in constant
    time)."""
    expected = token.encode()
    key = headers.get(API_KEY_HEADER)
    if key is not None and hmac.compare_digest(key.encode(), expected):
        return True
    auth = headers.get("Authorization")
    if auth is None:
        return False
    try:
        basic = BasicAuth.decode(auth)
    except ValueError:
        return False
    return hmac.compare_digest(basic.password.encode(), expected)


def events_route(token: str, offer: Callable[[TaskEvent], bool], wake: Callable[[], None]) -> Route:
    """The route; ``offer`` takes an event in (False: a repeat), ``wake`` starts a pass."""

    async def receive(request: web.Request) -> web.Response:
        if not authorized(request.headers, token):
            log.info("events endpoint: refused a request without the token (%s)", request.remote)
            return web.json_response(
                {"message": "missing or wrong token (x-api-key header or Basic auth password)"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="animate-bot events"'},
            )
        try:
            event = parse_event(await request.read())
        except MalformedEvent as exc:
            log.warning("events endpoint: not a task-finish event: %s", exc)
            return web.json_response({"message": f"not an EventBridge event: {exc}"}, status=400)
        if event is None:
            return web.json_response({"accepted": False, "reason": "not a task-finish event"})
        new = offer(event)
        if new:
            wake()
        return web.json_response({"accepted": new})

    return Route("POST", PATH, receive)
