"""Several workers on one PostgreSQL store: one queue, one account, each job advanced by one.

Each worker is a runtime of its own (its own pool, its own lease owner) on one database; the
provider is one fake DashScope account for all of them, checking the account's limits as the
real one would. Workers tick concurrently on one event loop, on one fake clock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.domain.catalog import Model
from core.domain.jobs import FINAL, SLOT_STATUSES, JobSpec, JobStatus
from core.domain.records import JobRecord
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from core.engine.config import EngineConfig
from core.ports import VideoProvider
from storage.postgres import PostgresJobStore
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.rig import CHAT, Rig, open_rig

SPEC = JobSpec(model="wan2.2-i2v-flash", prompt="a cat surfing", resolution="", duration=0)
SLOTS = 2  # wan2.2-i2v-flash: 2 concurrent tasks per account
QUERIES = 15  # EngineConfig.query_limit: task queries in any 1.1 s, for the whole account


@dataclass
class Account:
    """The one DashScope account every worker calls: who called what, and its limits."""

    inner: FakeVideoProvider
    clock: FakeClock
    calls: list[tuple[str, str]] = field(default_factory=list)
    busiest: int = 0
    query_times: list[datetime] = field(default_factory=list)

    def running(self, model: str) -> int:
        now = self.clock.now()
        return sum(
            1
            for t in self.inner.tasks.values()
            if t.model == model and t.status(now) in (TaskStatus.PENDING, TaskStatus.RUNNING)
        )

    def most_queries_in_a_window(self, window: float = 1.0) -> int:
        times = sorted(t.timestamp() for t in self.query_times)
        return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


@dataclass
class Worker:
    """One worker's view of the account: its calls are tagged with its name."""

    name: str
    account: Account
    hold_creates: asyncio.Event | None = None
    created: asyncio.Event = field(default_factory=asyncio.Event)

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        self.account.calls.append((self.name, "create"))
        info = await self.account.inner.create_task(request)
        self.created.set()
        self.account.busiest = max(self.account.busiest, self.account.running(request.model.id))
        if self.hold_creates is not None:
            await self.hold_creates.wait()  # the answer never comes back: the worker "died"
        return info

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        return await self.account.inner.upload_file(model, media)

    async def get_task(self, task_id: str) -> TaskInfo:
        self._query("get")
        return await self.account.inner.get_task(task_id)

    async def cancel_task(self, task_id: str) -> None:
        self._query("cancel")
        await self.account.inner.cancel_task(task_id)

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        self._query("list")
        return await self.account.inner.list_tasks(start=start, end=end, model=model, status=status)

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        self.account.calls.append((self.name, "download"))
        return await self.account.inner.download(url, dest, max_bytes=max_bytes)

    def _query(self, kind: str) -> None:
        self.account.calls.append((self.name, kind))
        self.account.query_times.append(self.account.clock.now())


@pytest.fixture
def account(clock: FakeClock) -> Account:
    return Account(FakeVideoProvider(clock=clock, run_seconds=10.0), clock)


@pytest.fixture
async def stack(pg_url: str) -> AsyncIterator[tuple[AsyncExitStack, str]]:
    async with AsyncExitStack() as resources:
        yield resources, pg_url


async def worker(
    stack: tuple[AsyncExitStack, str],
    tmp_path: Path,
    clock: FakeClock,
    provider: VideoProvider,
    port: RecordingPort,
    config: EngineConfig | None = None,
) -> Rig:
    resources, url = stack
    store = await resources.enter_async_context(PostgresJobStore.open(url))
    rig = await open_rig(tmp_path, clock=clock, provider=provider, store=store, config=config)
    resources.push_async_callback(rig.aclose)
    rig.rt.router.register(CHAT.platform, port)
    return rig


async def final(rig: Rig, ids: list[int]) -> bool:
    jobs = [await rig.store.get_job(i) for i in ids]
    return all(j is not None and j.status in FINAL for j in jobs)


async def test_two_workers_share_one_queue_and_the_accounts_limits(
    stack: tuple[AsyncExitStack, str], tmp_path: Path, clock: FakeClock, account: Account
) -> None:
    port_a, port_b = RecordingPort(), RecordingPort()  # one chat, posted to by both
    a = await worker(stack, tmp_path, clock, Worker("A", account), port_a)
    b = await worker(stack, tmp_path, clock, Worker("B", account), port_b)
    ids = [
        (await (a if i % 2 else b).submit(spec=SPEC, image=png(), chat=CHAT)).id for i in range(6)
    ]
    for step in range(400):
        # one alone, the other alone, both at once (their claims, slot writes and rate
        # windows racing on the database): neither ever repeats the other's work
        ticking = [a, b] if step % 3 == 2 else [(a, b)[step % 3]]
        await asyncio.gather(*(w.rt.worker.tick(clock.now()) for w in ticking))
        if await final(a, ids):
            break
        clock.advance(1.0)
    assert await final(a, ids)
    # every job posted once (by whichever worker held it), from one task each
    assert sorted(v.id for v in [*port_a.results, *port_b.results]) == ids
    creates = [who for who, what in account.calls if what == "create"]
    assert len(creates) == len(account.inner.tasks) == len(ids)
    downloads = [who for who, what in account.calls if what == "download"]
    assert len(downloads) == len(ids)
    # the account's limits held across both workers
    assert account.busiest <= SLOTS
    assert account.most_queries_in_a_window() <= QUERIES


class Writes(PostgresJobStore):
    """Worker A's store: says when its SUBMITTING write is done."""

    wrote = asyncio.Event()

    async def save_within(self, *args: Any, **kwargs: Any) -> JobRecord | None:
        saved = await super().save_within(*args, **kwargs)
        self.wrote.set()
        return saved


class CountsEarly(PostgresJobStore):
    """Worker B's store: B counts the busy slots, then A takes one, then B reads the queue."""

    async def in_flight_counts(self, statuses: Iterable[JobStatus]) -> dict[str, int]:
        wanted = set(statuses)
        counts = await super().in_flight_counts(wanted)
        if wanted == SLOT_STATUSES:
            await Writes.wrote.wait()
        return counts


async def test_a_worker_counting_slots_before_another_takes_one_cannot_overfill_them(
    stack: tuple[AsyncExitStack, str], tmp_path: Path, clock: FakeClock, account: Account
) -> None:
    """B sees one free slot; A takes it; B's queue no longer holds A's job, so B picks the
    next one. The slot is taken by the write that marks a job SUBMITTING, with the count
    made at that moment: B's write is refused and nothing is created over the limit."""
    port = RecordingPort()
    resources, url = stack
    Writes.wrote = asyncio.Event()
    rigs = []
    for name, kind in (("A", Writes), ("B", CountsEarly)):
        store = await resources.enter_async_context(kind.open(url))
        rig = await open_rig(tmp_path, clock=clock, provider=Worker(name, account), store=store)
        resources.push_async_callback(rig.aclose)
        rig.rt.router.register(CHAT.platform, port)
        rigs.append(rig)
    a, b = rigs
    first = await a.submit(spec=SPEC, image=png(), chat=CHAT)
    await a.rt.worker.tick(clock.now())  # one slot busy
    Writes.wrote.clear()
    for _ in range(3):
        await a.submit(spec=SPEC, image=png(), chat=CHAT)
    clock.advance(5.0)  # past the submit window
    later = asyncio.create_task(b.rt.worker.tick(clock.now()))
    await a.rt.worker.tick(clock.now())
    await asyncio.wait_for(later, 30)
    creates = [who for who, what in account.calls if what == "create"]
    assert creates == ["A", "A"] and account.busiest == SLOTS
    # still on its one task (the polling policy looks at it when its forecast says)
    assert (await a.rt.service.get_view(first.id)).status in (JobStatus.PENDING, JobStatus.RUNNING)
    assert await a.store.in_flight_counts([JobStatus.QUEUED]) == {SPEC.model: 2}


async def test_a_worker_that_dies_mid_create_is_taken_over_once_its_lease_expires(
    stack: tuple[AsyncExitStack, str], tmp_path: Path, clock: FakeClock, account: Account
) -> None:
    """A's create reached DashScope and A froze before the answer: while A renews its lease
    nobody touches the job; once A is silent for a lease's life, B reconciles the task A
    made (never a second one) and delivers it."""
    port = RecordingPort()
    frozen = Worker("A", account, hold_creates=asyncio.Event())
    a = await worker(stack, tmp_path, clock, frozen, port)
    b = await worker(stack, tmp_path, clock, Worker("B", account), port)
    job = await a.submit(spec=SPEC, image=png(), chat=CHAT)
    stuck = asyncio.create_task(a.rt.worker.tick(clock.now()))
    try:
        await asyncio.wait_for(frozen.created.wait(), 10)  # A's pass ran up to its create
        seen: deque[JobStatus] = deque()
        for _ in range(30):  # A is alive (its keeper renews) for 30 s
            await a.rt.context.leases.renew(clock.now())
            await b.rt.worker.tick(clock.now())
            seen.append((await b.rt.service.get_view(job.id)).status)
            clock.advance(1.0)
        assert set(seen) == {JobStatus.SUBMITTING}
        lease = a.rt.context.leases.seconds
        for step in range(200):  # A is silent from now on
            await b.rt.worker.tick(clock.now())
            status = (await b.rt.service.get_view(job.id)).status
            if step < lease - 1:
                assert status is JobStatus.SUBMITTING, step
            if status in FINAL:
                break
            clock.advance(1.0)
    finally:
        stuck.cancel()
        await asyncio.gather(stuck, return_exceptions=True)
    view = await b.rt.service.get_view(job.id)
    assert view.status is JobStatus.DELIVERED and [r.id for r in port.results] == [job.id]
    assert [c for c in account.calls if c[1] == "create"] == [("A", "create")]
    assert view.task_id == next(iter(account.inner.tasks))


async def test_a_front_end_insert_wakes_a_worker_waiting_for_an_hour(
    stack: tuple[AsyncExitStack, str], tmp_path: Path, clock: FakeClock, account: Account
) -> None:
    port = RecordingPort()
    sleeper = Worker("A", account)
    waiting = await worker(stack, tmp_path, clock, sleeper, port)
    front = await worker(stack, tmp_path, clock, Worker("F", account), port)
    loop = waiting.rt.worker
    loop.interval = 3600.0  # only a wakeup can bring the next tick
    running = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(loop.started.wait(), 10)
        # the front-end's process records a job; its own worker is not running
        await front.submit(spec=SPEC, image=png(), chat=CHAT)
        await asyncio.wait_for(sleeper.created.wait(), 10)  # the waiting worker woke: a tick
    finally:
        loop.stop()
        await asyncio.wait_for(running, 10)


async def test_only_the_leader_looks_by_task_list(
    stack: tuple[AsyncExitStack, str], tmp_path: Path, clock: FakeClock, account: Account
) -> None:
    """A list look covers every task of a model, whoever created it: one worker (the leader)
    makes them; the others look at the tasks they claim one by one, never by list."""
    port = RecordingPort()
    a = await worker(stack, tmp_path, clock, Worker("A", account), port)
    b = await worker(stack, tmp_path, clock, Worker("B", account), port)
    ids = [(await a.submit(spec=SPEC, image=png(), chat=CHAT)).id for _ in range(4)]
    await a.rt.worker.tick(clock.now())  # A ticks first: A takes the leader role
    for _ in range(400):
        await asyncio.gather(*(w.rt.worker.tick(clock.now()) for w in (b, a)))
        if await final(a, ids):
            break
        clock.advance(1.0)
    assert await final(a, ids)
    listers = {who for who, what in account.calls if what == "list"}
    assert listers == {"A"}
    assert not b.rt.engine.sweeper.sweeping and a.rt.engine.sweeper.sweeping


async def test_only_the_leader_edits_the_places_of_waiting_jobs(
    stack: tuple[AsyncExitStack, str], tmp_path: Path, clock: FakeClock, account: Account
) -> None:
    """Every worker would read the whole queue each pass and race the others to the same
    status edits: the leader alone moves the places."""
    port_a, port_b = RecordingPort(), RecordingPort()
    a = await worker(stack, tmp_path, clock, Worker("A", account), port_a)
    b = await worker(stack, tmp_path, clock, Worker("B", account), port_b)
    for _ in range(SLOTS + 4):
        view = await a.submit(spec=SPEC, image=png(), chat=CHAT)
        await a.attach_chat(view.id, thread="t", status_message=f"m{view.id}", shown=view)
    await a.rt.worker.tick(clock.now())  # A leads; both slots taken, the rest move up
    shown_by_a = [i for i, s in port_a.progress if s == "queued"]
    for _ in range(15):  # B alone, within A's leader lease: B starts the next jobs
        clock.advance(1.0)
        await b.rt.worker.tick(clock.now())
    assert [i for i, s in port_b.progress if s == "pending"] != []  # B did start jobs
    assert [s for _, s in port_b.progress if s == "queued"] == []  # and moved no place
    await a.rt.worker.tick(clock.now())
    assert len([i for i, s in port_a.progress if s == "queued"]) > len(shown_by_a)
