"""The one builder: settings → provider, store, media pool, engine, router, worker, service.

The store is PostgreSQL when ``DATABASE_URL`` is set (any number of processes share it: the
account's limits live in it, the worker leases jobs and listens for new ones), else SQLite at
``DATABASE_PATH`` (one process: ``exclusive``, limits in memory, a dead predecessor's leases
dropped at startup).

The runner, the CLI, the tests and ``bench/`` all assemble the runtime here, so they run the same
thing. ``build`` opens every resource it creates with ``async with`` and closes them in reverse
order (background work first, so a download never outlives its session or database); what the
caller hands in (a store, a provider, a media pool) stays the caller's to close.

Overrides exist for tests and tools: a clock, engine knobs, a replacement provider or a wrapper
around the real DashScope client, the client's retries.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import aiohttp

from bot.metrics import BotMetrics
from bot.settings import Settings, SlackSettings
from core.app.service import AnimateService
from core.app.views import Views
from core.domain.pricing import PriceBook
from core.engine.config import EngineConfig
from core.engine.context import EngineContext
from core.engine.delivery import Deliverer
from core.engine.engine import Engine
from core.engine.fitting import Fitter, fit_in
from core.engine.recovery import resume, take_over
from core.engine.retention import sweep_leftovers
from core.engine.router import DeliveryRouter
from core.engine.worker import Worker
from core.estimates import Durations
from core.media.pool import MediaPool
from core.ports import AccountLimits, Clock, JobStore, Listen, SystemClock, VideoProvider
from providers.dashscope import DashScopeClient
from slackapp.frontend import SlackFrontEnd
from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore

#: a file another process may still be writing in a shared media directory is not a leftover
SHARED_GRACE = 3600.0


def worker_id() -> str:
    """This process's lease owner: unique, and telling an operator which host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything ``build`` assembled. Front-ends use ``service`` and register a port in
    ``router``; the runner runs ``worker``; tests reach any piece."""

    settings: Settings
    clock: Clock
    config: EngineConfig
    store: JobStore
    provider: VideoProvider
    media: MediaPool
    context: EngineContext
    durations: Durations
    engine: Engine
    router: DeliveryRouter
    deliverer: Deliverer
    worker: Worker
    views: Views
    service: AnimateService


@asynccontextmanager
async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    config: EngineConfig | None = None,
    store: JobStore | None = None,
    provider: VideoProvider | None = None,
    wrap_provider: Callable[[VideoProvider], VideoProvider] | None = None,
    media: MediaPool | None = None,
    session: aiohttp.ClientSession | None = None,
    attempts: int = 1,
    retry_delay: float = 0.5,
    heartbeat: Callable[[], None] | None = None,
    interval: float = 5.0,
    media_workers: int = 2,
    intakes: int = 4,
    metrics: BotMetrics | None = None,
    lease_seconds: float = 20.0,
    exclusive: bool | None = None,
    owner: str | None = None,
) -> AsyncIterator[Runtime]:
    """Assemble the runtime for ``settings``; everything it opened is closed on exit.

    ``provider`` replaces the DashScope client (tests' scripted fakes); ``wrap_provider`` wraps
    the real one (counting, crash points). ``attempts``: the client's own retries of idempotent
    calls (1 in production: the engine does its own backoff inside its query budget, which
    client-side retries would spend unseen). ``lease_seconds``: how long a dead worker's jobs
    wait before another takes them. ``exclusive``: no other process uses the store (default:
    SQLite yes, PostgreSQL no). ``metrics``: count and time what passes through
    the provider, the delivery ports and the video fit (``bot.metrics``).
    """
    clock = clock or SystemClock()
    config = config or EngineConfig(media_retention_days=settings.media_retention_days)
    async with AsyncExitStack() as stack:
        if store is None:
            if settings.database_url is not None:
                store = await stack.enter_async_context(
                    PostgresJobStore.open(settings.database_url)
                )
            else:
                store = await stack.enter_async_context(SqliteJobStore.open(settings.database_path))
        limits: AccountLimits | None = None
        listen: Listen | None = None
        if isinstance(store, PostgresJobStore):
            limits, listen = store.limits, store.listen
        exclusive = not isinstance(store, PostgresJobStore) if exclusive is None else exclusive
        if media is None:
            media = await stack.enter_async_context(MediaPool(max_workers=media_workers))
        if provider is None:
            if session is None:
                timeout = aiohttp.ClientTimeout(total=None, sock_connect=15)
                session = await stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
            dashscope = settings.dashscope
            if dashscope.api_key is None:
                raise ValueError("a DashScope API key is required to build the real client")
            provider = DashScopeClient(
                session,
                api_key=dashscope.api_key,
                region=dashscope.region,
                base_url=dashscope.base_url,
                attempts=attempts,
                retry_delay=retry_delay,
            )
        if wrap_provider is not None:
            provider = wrap_provider(provider)
        if metrics is not None:
            provider = metrics.provider(provider)
        region = settings.dashscope.region
        context = EngineContext(
            provider=provider,
            store=store,
            clock=clock,
            config=config,
            media_dir=settings.media_dir,
            region=region,
            limits=limits,
            owner=owner or worker_id(),
            lease_seconds=lease_seconds,
            exclusive=exclusive,
        )
        durations = Durations(store)
        # completion push: events come in only through the HTTP endpoint the token guards
        engine = Engine(context, durations, push=settings.events_token is not None)
        views = Views(
            store=store,
            durations=durations,
            slots=context.slots,
            fairness_window=config.fairness_window,
        )
        router = DeliveryRouter(wrap=metrics.port if metrics is not None else None)
        fit = fit_in(media) if metrics is None else metrics.fit(fit_in(media))
        fitter = Fitter(store=store, clock=clock, background=context.background, fit=fit)
        deliverer = Deliverer(
            store=store,
            config=config,
            router=router,
            view=views.view,
            fitter=fitter,
            claim=context.leases.claim_deliverable,
            queue=views.queue,
            leading=context.leases.leads,
        )
        service: AnimateService | None = None

        async def recover() -> None:
            """A restart changes nothing: leftovers of a crash are deleted, every unfinished
            job is picked up again, a create cut short goes to reconciliation (once nobody
            holds it: alone on SQLite at once, on a shared store when its lease expires)."""
            assert store is not None  # noqa: S101 - bound above
            if exclusive:
                await store.clear_leases()  # the instance lock proves their holder is dead
            await asyncio.to_thread(
                sweep_leftovers,
                settings.media_dir,
                referenced=await store.referenced_files(),
                busy_jobs=context.background.busy_jobs(),
                writing=service.writing if service is not None else set(),
                settled_before=None if exclusive else time.time() - SHARED_GRACE,
            )
            now = clock.now()
            await resume(store, now)
            await take_over(context, now, always=True)

        worker = Worker(
            engine=engine,
            deliverer=deliverer,
            clock=clock,
            recover=recover,
            heartbeat=heartbeat,
            interval=interval,
            leases=context.leases,
            listen=listen,
        )
        service = AnimateService(
            store=store,
            provider=provider,
            clock=clock,
            media=media,
            media_dir=settings.media_dir,
            region=region,
            views=views,
            operator=settings.operator_limits,
            intakes=intakes,
            notify=worker.wake,
            prices=PriceBook(region, settings.price_overrides),
        )
        # closes first (LIFO): background downloads and re-encodes stop before the session,
        # the pool and the database close under them; their jobs stay due for the next start
        stack.push_async_callback(engine.drain, cancel=True)
        yield Runtime(
            settings=settings,
            clock=clock,
            config=config,
            store=store,
            provider=provider,
            media=media,
            context=context,
            durations=durations,
            engine=engine,
            router=router,
            deliverer=deliverer,
            worker=worker,
            views=views,
            service=service,
        )


@asynccontextmanager
async def slack_frontend(
    rt: Runtime,
    slack: SlackSettings,
    *,
    session: aiohttp.ClientSession | None = None,
    ack_budget: float = 2.0,
    share_waits: Sequence[float] = (0.0, 0.5, 1.0),
) -> AsyncIterator[SlackFrontEnd]:
    """The Slack front-end over ``rt``'s facade, connected, its port registered in the router
    (ready while Slack accepts the bot token); disconnected and unregistered on exit.

    ``session``: the aiohttp session for the Web API, file downloads and uploads (tests trace
    it); one is opened here otherwise. A refused token raises ``SlackStartError``.
    """
    async with AsyncExitStack() as stack:
        if session is None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=15)
            session = await stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
        front = SlackFrontEnd(
            service=rt.service,
            region=rt.settings.dashscope.region,
            session=session,
            bot_token=slack.bot_token,
            app_token=slack.app_token,
            api_url=slack.api_url,
            ack_budget=ack_budget,
            share_waits=share_waits,
        )
        rt.router.register(front.PLATFORM, front.port, ready=front.ready)
        stack.callback(rt.router.unregister, front.PLATFORM)
        stack.push_async_callback(front.close)
        await front.start()
        yield front
