"""Stand-ins off the bot's event loop, for benches that time the bot in real time.

In production Discord and DashScope are other machines: their work never competes with the
bot's event loop. ``ThreadLoop`` gives a stand-in a private loop in a daemon thread;
``SlowLink`` is a TCP proxy that passes each connection's bytes at a bounded rate (a slow
network path for uploads), running on such a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class ThreadLoop:
    """An event loop running in a daemon thread; ``await run(coro)`` from another loop."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class SlowLink:
    """``127.0.0.1:port`` → ``target``, each direction of each connection at ``rate`` bytes/s."""

    def __init__(self, target_host: str, target_port: int, rate: float) -> None:
        self.target = (target_host, target_port)
        self.rate = rate
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        #: connections open now that carried more than 1 MiB towards the target (uploads)
        self.bulk_open = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer, upload=True)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self._pipes.difference_update(pipes)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upload: bool = False
    ) -> None:
        chunk = max(1024, int(self.rate / 20))
        sent, bulk = 0, False
        try:
            while data := await reader.read(chunk):
                writer.write(data)
                await writer.drain()
                sent += len(data)
                if upload and not bulk and sent > 1024 * 1024:
                    bulk = True
                    self.bulk_open += 1
                if len(data) >= 1024:  # small messages pass at once; bulk waits its turn
                    await asyncio.sleep(len(data) / self.rate)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if bulk:
                self.bulk_open -= 1
            with contextlib.suppress(Exception):
                writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
