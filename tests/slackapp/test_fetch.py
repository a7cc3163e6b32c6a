"""Reading a user's picture from Slack: the token goes to allowed hosts only, the sign-in page
becomes a clear permission error, and sizes are bounded before and while reading."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from core.domain.errors import AnimateError, ValidationError
from slackapp.fetch import FileReader

TOKEN = "xoxb-1-2-fetchtest"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Host:
    """A small file host that records who asked for what."""

    routes: dict[str, web.Response | Handler] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    origin: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("Authorization")))
        route = self.routes.get(request.path) or web.Response(status=404)
        return route if isinstance(route, web.StreamResponse) else await route(request)


@pytest.fixture
async def hosts() -> AsyncIterator[tuple[Host, Host]]:
    made: list[web.AppRunner] = []
    out = []
    for _ in range(2):
        host = Host()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", host.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # asyncio.Server
        host.origin = f"http://127.0.0.1:{port}"
        made.append(runner)
        out.append(host)
    yield out[0], out[1]
    for runner in made:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def reader(session: aiohttp.ClientSession, slack: Host, **kw: int) -> FileReader:
    return FileReader(session, TOKEN, extra_origins=frozenset({slack.origin}), **kw)


async def test_the_picture_is_read_with_the_bot_token(
    hosts: tuple[Host, Host], session: aiohttp.ClientSession
) -> None:
    slack, _ = hosts
    slack.routes["/files-pri/T-F1/download/cat.png"] = web.Response(
        body=b"\x89PNG...", content_type="image/png"
    )
    data = await reader(session, slack).read(
        f"{slack.origin}/files-pri/T-F1/download/cat.png", name="cat.png"
    )
    assert data == b"\x89PNG..."
    assert slack.seen == [("/files-pri/T-F1/download/cat.png", f"Bearer {TOKEN}")]


async def test_a_redirect_is_followed_only_to_allowed_hosts_and_the_token_goes_nowhere_else(
    hosts: tuple[Host, Host], session: aiohttp.ClientSession
) -> None:
    slack, elsewhere = hosts
    slack.routes["/a"] = web.Response(status=302, headers={"Location": "/b"})
    slack.routes["/b"] = web.Response(body=b"ok", content_type="image/jpeg")
    assert await reader(session, slack).read(f"{slack.origin}/a", name="x") == b"ok"
    assert [auth for _, auth in slack.seen] == [f"Bearer {TOKEN}"] * 2

    slack.routes["/c"] = web.Response(status=302, headers={"Location": f"{elsewhere.origin}/d"})
    with pytest.raises(ValidationError) as refused:
        await reader(session, slack).read(f"{slack.origin}/c", name="x")
    assert refused.value.key == "slack.file.host"
    assert elsewhere.seen == [], "the token never left for a host that is not Slack's"


async def test_a_url_off_slack_is_refused_before_any_request(
    hosts: tuple[Host, Host], session: aiohttp.ClientSession
) -> None:
    slack, elsewhere = hosts
    with pytest.raises(ValidationError, match="not stored by Slack"):
        await reader(session, slack).read(f"{elsewhere.origin}/x.png", name="x.png")
    for url in (
        "http://files.slack.com/x",
        "https://files.slack.com.evil.example/x",
        "https://files.slack.com:8443/x",
        "file:///etc/passwd",
    ):
        assert not reader(session, slack).allowed(url)
    assert reader(session, slack).allowed("https://files.slack.com/files-pri/T-F/x.png")
    assert elsewhere.seen == []


async def test_the_sign_in_page_means_files_read_is_missing(
    hosts: tuple[Host, Host], session: aiohttp.ClientSession
) -> None:
    slack, _ = hosts
    slack.routes["/p"] = web.Response(
        text="<!DOCTYPE html><html>Sign in</html>", content_type="text/html"
    )
    with pytest.raises(ValidationError) as caught:
        await reader(session, slack).read(f"{slack.origin}/p", name="p.png")
    assert caught.value.key == "slack.file.no_access" and "files:read" in caught.value.message


async def test_sizes_are_bounded_before_and_while_reading(
    hosts: tuple[Host, Host], session: aiohttp.ClientSession
) -> None:
    slack, _ = hosts
    small = reader(session, slack, max_bytes=1000)
    with pytest.raises(ValidationError) as before:
        small.check_size("big.png", 5000)
    assert before.value.key == "image.too_big"
    assert before.value.params == {"size_mb": 0.0, "limit_mb": 0}
    small.check_size("ok.png", 999)

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        for _ in range(100):  # no Content-Length: only counting can stop it
            await response.write(b"x" * 100)
        await response.write_eof()
        return response

    slack.routes["/s"] = stream
    with pytest.raises(ValidationError) as during:
        await small.read(f"{slack.origin}/s", name="s.png")
    assert during.value.key == "image.too_big"


async def test_a_missing_file_and_a_server_error_say_what_to_do(
    hosts: tuple[Host, Host], session: aiohttp.ClientSession
) -> None:
    slack, _ = hosts
    with pytest.raises(ValidationError) as gone:
        await reader(session, slack).read(f"{slack.origin}/none", name="n")
    assert gone.value.key == "slack.file.gone"
    slack.routes["/e"] = web.Response(status=503)
    with pytest.raises(AnimateError) as busy:
        await reader(session, slack).read(f"{slack.origin}/e", name="e")
    assert busy.value.key == "slack.file.status" and busy.value.retryable
