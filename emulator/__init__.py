"""A local DashScope-compatible server for the Wan image-to-video API (reference §15 checklist).

Embeddable in tests::

    async with Emulator(EmulatorConfig(time_scale=0.01)) as emu:
        url = emu.base_url  # "http://127.0.0.1:PORT/api/v1"

or for synchronous clients::

    with Emulator(config).run_in_thread() as emu:
        ...

Families: legacy first-frame i2v, wan2.7-i2v ``media[]``, the kf2v first+last-frame models on
``/services/aigc/image2video/…`` and Wan 3.0; per-region catalogs (``catalog(region)``,
``REGION_HOSTS``; a documented Host header selects its region). Completion push: with
``EmulatorConfig(push=PushConfig(url=…))`` every finished task POSTs the EventBridge event;
tests ``await emu.settle_push()`` instead of sleeping and read ``emu.push_log``.

Dependency rule: stdlib + aiohttp + Pillow + av only; never core/, providers/ or app packages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar

from aiohttp import web

from emulator._config import (
    FAULT_KINDS,
    REGIONS,
    EmulatorConfig,
    FaultConfig,
    FaultKind,
    PushConfig,
)
from emulator._events import Delivery
from emulator._media import UploadedFile
from emulator._regions import REGION_HOSTS, CatalogEntry, RegionHosts, catalog
from emulator._rules import MODELS, ModelRule, output_size
from emulator._server import EmulatorServer, RequestRecord
from emulator._task_store import TaskView

log = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = [
    "FAULT_KINDS",
    "MODELS",
    "REGIONS",
    "REGION_HOSTS",
    "CatalogEntry",
    "Delivery",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "FaultKind",
    "ModelRule",
    "PushConfig",
    "RegionHosts",
    "RequestRecord",
    "TaskView",
    "UploadedFile",
    "catalog",
    "output_size",
]


class Emulator:
    """The emulator server. Start with ``start()``/``async with``, or ``run_in_thread()``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._server = EmulatorServer(self.config)
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        runner = web.AppRunner(self._server.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0]
        self._host, self._port = host, int(bound[1])
        self._server.oss.origin = f"http://{_url_host(host)}:{self._port}"
        await self._server.start()
        log.info("DashScope emulator listening on %s", self.base_url)

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._server.close()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @contextlib.contextmanager
    def run_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Emulator]:
        """Run on a private event loop in a daemon thread (for synchronous clients)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=_serve_forever, args=(loop, ready), name="dashscope-emulator", daemon=True
        )
        thread.start()
        ready.wait()
        try:
            asyncio.run_coroutine_threadsafe(self.start(host, port), loop).result()
            self._thread_loop = loop
            yield self
        finally:
            self._thread_loop = None
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.close(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            _loop_threads.pop(loop, None)
            loop.close()

    # ------------------------------------------------------------------ inspection
    @property
    def port(self) -> int:
        return self._port

    @property
    def origin(self) -> str:
        return f"http://{_url_host(self._host)}:{self._port}"

    @property
    def base_url(self) -> str:
        return self.origin + "/api/v1"

    @property
    def tasks(self) -> Mapping[str, TaskView]:
        """Snapshot of every task (including expired ones) at the current clock time."""
        return MappingProxyType(
            self._on_loop(lambda: self._server.store.views(self.config.clock()))
        )

    @property
    def uploads(self) -> Mapping[str, UploadedFile]:
        return MappingProxyType(self._server.oss.files)

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request received so far, oldest first (a copy when running in a thread)."""
        if self._thread_loop is None:
            return self._server.request_log
        return self._on_loop(lambda: list(self._server.request_log))

    def _on_loop(self, read: Callable[[], T]) -> T:
        """Run ``read`` on the server's loop when it lives in another thread (no data races)."""
        loop = self._thread_loop
        if loop is None or _loop_threads.get(loop) is threading.current_thread():
            return read()

        async def call() -> T:
            return read()

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    # ------------------------------------------------------------------ event push
    @property
    def push_log(self) -> list[Delivery]:
        """Every event copy pushed or dropped so far, oldest first (empty without push)."""
        pusher = self._server.pusher
        return [] if pusher is None else self._on_loop(lambda: list(pusher.deliveries))

    async def settle_push(self) -> list[Delivery]:
        """Advance tasks to the clock and finish every push delivery due by now.

        Deliveries scheduled for later (retries, replays) wait until the clock reaches them.
        Returns the push log. From another thread use ``settle_push_sync``.
        """
        pusher = self._server.pusher
        if pusher is None:
            raise RuntimeError("event push is not configured (EmulatorConfig.push)")
        await pusher.settle()
        return list(pusher.deliveries)

    def settle_push_sync(self) -> list[Delivery]:
        loop = self._thread_loop
        if loop is None:
            raise RuntimeError("settle_push_sync needs run_in_thread(); await settle_push()")
        return asyncio.run_coroutine_threadsafe(self.settle_push(), loop).result()

    def push_pending(self) -> int:
        """Deliveries still scheduled (retries, replays) or in flight."""
        pusher = self._server.pusher
        return 0 if pusher is None else self._on_loop(pusher.pending)

    # ------------------------------------------------------------------ faults
    def inject(self, kind: FaultKind, count: int = 1, **options: Any) -> None:
        """Make the next ``count`` eligible requests hit fault ``kind``.

        Options: ``code``/``message`` for moderation_*, ip_infringement_* and task_failure;
        ``seconds`` for latency.
        """
        self._server.faults.inject(kind, count, **options)

    def pending_faults(self, kind: FaultKind) -> int:
        return self._server.faults.pending(kind)

    def clear_faults(self) -> None:
        self._server.faults.clear()


_loop_threads: dict[asyncio.AbstractEventLoop, threading.Thread] = {}


def _serve_forever(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    _loop_threads[loop] = threading.current_thread()
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):  # noqa: S104  # only formatting a URL, not binding
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
