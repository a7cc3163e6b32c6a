"""Socket Mode: ``hello``, envelopes, acks, retries and ``disconnect`` (reference §2).

slack_sdk's aiohttp client connects to the URL ``apps.connections.open`` issued, acks each
envelope with ``{"envelope_id", "payload"?}``, and on a ``disconnect`` frame asks for a new URL
and reconnects. Ack deadlines (3 s) run on the fake's clock: an envelope still unacked when the
clock passes its deadline is an ``operation_timeout`` for the user (interactive, slash) or is
redelivered with ``retry_attempt``/``retry_reason`` (events, up to 3 retries).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from tests.fakeslack._model import Ephemeral, FakeMessage, Json
from tests.fakeslack._views import apply_submission_ack

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

ACK_DEADLINE = 3.0
MAX_CONNECTIONS = 10
EVENT_RETRIES = 3


@dataclass
class Envelope:
    id: str
    type: str  # "slash_commands" | "interactive" | "events_api"
    payload: Json
    accepts_response_payload: bool
    sent_at: float
    retry_attempt: int | None = None
    retry_reason: str | None = None
    #: None while waiting; "acked", "operation_timeout" (no ack in 3 s) or "dispatch_failed"
    outcome: str | None = None
    ack_payload: Json | None = None
    #: what Slack would show instead of the app's answer (e.g. errors naming unknown blocks)
    problem: str | None = None
    extra_acks: int = 0  # duplicate or late acks, ignored as Slack ignores them
    connection: int | None = None  # index into SocketMode.connections

    def frame(self) -> Json:
        out: Json = {
            "envelope_id": self.id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.retry_attempt is not None:
            out |= {"retry_attempt": self.retry_attempt, "retry_reason": self.retry_reason}
        return out


@dataclass
class Connection:
    ws: web.WebSocketResponse
    ticket: str
    received: list[Json] = field(default_factory=list)  # every frame the client sent

    @property
    def live(self) -> bool:
        return not self.ws.closed


class SocketMode:
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.tickets: set[str] = set()
        self.connections: list[Connection] = []
        self.envelopes: dict[str, Envelope] = {}
        self.disconnects: list[str] = []  # reasons sent, in order

    def issue_url(self) -> str:
        ticket = secrets.token_hex(8)
        self.tickets.add(ticket)
        host = self.fake.base.removeprefix("http://")
        return f"ws://{host}/link/?ticket={ticket}&app_id={self.fake.app_id}"

    @property
    def live(self) -> list[Connection]:
        return [c for c in self.connections if c.live]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, ticket)
        self.connections.append(conn)
        if len(self.live) > MAX_CONNECTIONS:
            await self._send_disconnect(conn, "too_many_websockets")
        else:
            await ws.send_str(json.dumps(self._hello()))
        await self.fake.notify()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    frame = json.loads(msg.data)
                    conn.received.append(frame)
                    await self._on_ack(frame)
        finally:
            await self.fake.notify()
        return ws

    def _hello(self) -> Json:
        return {
            "type": "hello",
            "num_connections": len(self.live),
            "debug_info": {
                "host": "applink-fake",
                "build_number": 10,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.fake.app_id},
        }

    # ----------------------------------------------------------------- sending
    async def send(
        self,
        kind: str,
        payload: Json,
        *,
        accepts_response_payload: bool,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> Envelope:
        env = Envelope(
            str(uuid.uuid4()),
            kind,
            payload,
            accepts_response_payload,
            self.fake.clock(),
            retry_attempt,
            retry_reason,
        )
        self.envelopes[env.id] = env
        live = self.live
        if not live:
            env.outcome = "dispatch_failed"  # what the user sees with no connection (§2)
        else:
            # each payload goes to one connection; the newest one here
            conn = live[-1]
            env.connection = self.connections.index(conn)
            await conn.ws.send_str(json.dumps(env.frame()))
        await self.fake.notify()
        return env

    async def redeliver(self, env: Envelope, reason: str = "timeout") -> Envelope:
        """Deliver ``env``'s payload again, as Slack's at-least-once retries do."""
        attempt = (env.retry_attempt or 0) + 1
        return await self.send(
            env.type,
            env.payload,
            accepts_response_payload=env.accepts_response_payload,
            retry_attempt=attempt,
            retry_reason=reason,
        )

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every live connection to reconnect (``warning``, ``refresh_requested`` …)."""
        for conn in self.live:
            await self._send_disconnect(conn, reason)

    async def _send_disconnect(self, conn: Connection, reason: str) -> None:
        self.disconnects.append(reason)
        frame = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-fake"},
        }
        await conn.ws.send_str(json.dumps(frame))

    async def drop(self) -> None:
        """Close every connection from the server side, like a network cut."""
        for conn in self.live:
            await conn.ws.close()

    async def close(self) -> None:
        for conn in self.live:
            await conn.ws.close(code=1001)

    # ----------------------------------------------------------------- acks and deadlines
    async def _on_ack(self, frame: Json) -> None:
        env = self.envelopes.get(str(frame.get("envelope_id")))
        if env is None:
            return
        if env.outcome is None and self.fake.clock() - env.sent_at > ACK_DEADLINE:
            await self._expire(env)  # the deadline passed before this ack arrived
        if env.outcome is not None:
            env.extra_acks += 1  # duplicate or late: Slack ignores it
        else:
            payload = frame.get("payload")
            env.outcome = "acked"
            env.ack_payload = payload if isinstance(payload, dict) else None
            self._apply(env)
        await self.fake.notify()

    def _apply(self, env: Envelope) -> None:
        fake, p, ack = self.fake, env.payload, env.ack_payload
        if env.type == "slash_commands" and ack:
            text = str(ack.get("text") or "")
            blocks = ack.get("blocks") or []
            if ack.get("response_type") == "in_channel":
                msg = FakeMessage(p["channel_id"], fake.new_ts(), fake.bot_user.id, text, blocks)
                msg.bot_id, msg.app_id = fake.bot_id, fake.app_id
                fake.add_message(fake.channels[p["channel_id"]], msg)
            else:
                fake.ephemerals.append(
                    Ephemeral(p["channel_id"], p["user_id"], text, blocks, None, "ack")
                )
        elif p.get("type") == "view_submission":
            view = fake.views.get(p["view"]["id"])
            if view is not None:
                env.problem = apply_submission_ack(fake, view, ack)

    async def _expire(self, env: Envelope) -> None:
        if env.outcome is not None:
            return
        env.outcome = "operation_timeout"
        attempt = env.retry_attempt or 0
        if env.type == "events_api" and attempt < EVENT_RETRIES:
            await self.redeliver(env, "timeout")

    async def fire_timers(self, now: float) -> None:
        for env in list(self.envelopes.values()):
            if env.outcome is None and now - env.sent_at > ACK_DEADLINE:
                await self._expire(env)
