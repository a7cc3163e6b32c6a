"""The gateway half of the fake: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME.

Frames are plain JSON text; discord.py only decompresses binary frames (reference §B.2).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from playground.fakediscord._server import FakeDiscord

log = logging.getLogger(__name__)


class Gateway:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.ws: web.WebSocketResponse | None = None
        self.seq = 0
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.session_id = "fake-session"
        self.ready = asyncio.Event()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.ws = ws
        self.ready.clear()
        await self._send(10, {"heartbeat_interval": 41250})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(msg.data)
            op = payload.get("op")
            if op == 1:
                await self._send(11)
            elif op == 2:
                await self._identify(payload["d"], request)
            elif op == 6:
                self.resumes.append(payload["d"])
                await self.dispatch("RESUMED", {})
                self.ready.set()
                await self.fake._notify()
        if self.ws is ws:
            self.ws = None
        return ws

    async def _identify(self, data: dict[str, Any], request: web.Request) -> None:
        if data.get("token") != self.fake.token:
            if self.ws is not None:  # the socket that sent IDENTIFY; None only once it closed
                await self.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies.append(data)
        fake = self.fake
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": fake.bot_user_payload(),
                "guilds": [{"id": str(g.id), "unavailable": True} for g in fake.guilds.values()],
                "session_id": self.session_id,
                "resume_gateway_url": f"ws://{request.host}/gateway",
                "application": {"id": str(fake.app_id), "flags": 0},
                # Discord echoes the [shard_id, num_shards] an IDENTIFY asked for
                **({"shard": data["shard"]} if "shard" in data else {}),
            },
        )
        for guild_id in fake.guilds:
            await self.dispatch("GUILD_CREATE", fake.guild_payload(guild_id))
        self.ready.set()
        await fake._notify()

    async def _send(self, op: int, d: Any = None, t: str | None = None) -> None:
        if self.ws is None or self.ws.closed:
            return
        frame: dict[str, Any] = {"op": op, "d": d}
        if op == 0:
            self.seq += 1
            frame |= {"s": self.seq, "t": t}
        await self.ws.send_str(json.dumps(frame))

    async def dispatch(self, event: str, data: Any) -> None:
        await self._send(0, data, event)

    async def drop(self, code: int = 4000) -> None:
        """Close the socket as Discord does on a server-side hiccup (the client resumes)."""
        if self.ws is not None:
            self.ready.clear()
            await self.ws.close(code=code)

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close(code=1001)
