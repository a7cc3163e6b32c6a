"""The bot's own HTTP server (``HTTP_PORT``/``HTTP_HOST``): one aiohttp app, pluggable routes.

Whoever needs an endpoint plugs a :class:`Route` in before the server starts: the completion
push (``bot.webhooks``) today; health and metrics endpoints later. It listens on loopback by
default: the public side (TLS, a public name) is a reverse proxy's job (README, "Push").

Handlers must answer quickly and never wait on the engine: they hand work over and return.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: the largest request body any route accepts (aiohttp refuses bigger ones with 413)
MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler


def application(routes: Sequence[Route]) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    return app


class WebServer:
    """A started server; ``port`` is the one it listens on (useful with port 0 in tests)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self.runner = runner
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@asynccontextmanager
async def serve(host: str, port: int, routes: Sequence[Route]) -> AsyncIterator[WebServer]:
    """Serve ``routes`` on ``host:port`` until the block ends."""
    # no access log: it would record every caller's address for no use; handlers log what
    # matters (without tokens)
    runner = web.AppRunner(application(routes), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        log.info("HTTP server on %s:%d (%s)", host, bound, ", ".join(r.path for r in routes))
        yield WebServer(runner, host, int(bound))
    finally:
        await runner.cleanup()
