"""The lease half of the store contract, on every backend: claims, renewal, release, slots
taken with the SUBMITTING write, roles, and the one error a duplicate task id raises."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest

from core.domain.jobs import SLOT_STATUSES, JobStatus
from core.domain.records import JobRecord, transition
from core.ports import JobStore, Lease, SlotCap, TaskTakenError
from core.rows import update
from tests.core.fakes import T0
from tests.storage.backends import Backend
from tests.storage.test_contract import record

_S = JobStatus
LIFE = timedelta(seconds=20)


def lease(owner: str, at: timedelta = timedelta(0)) -> Lease:
    return Lease(owner, T0 + at + LIFE)


def at(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


async def running(store: JobStore, n: int, *, step: float = 1.0) -> list[int]:
    """``n`` running jobs due at T0, T0 + step, …"""
    ids = []
    for i in range(n):
        job = record(status=_S.RUNNING, task_id=f"t{i}", next_at=T0 + at(i * step))
        ids.append((await store.insert_job(job)).id)
    return ids


async def test_a_claim_takes_free_rows_oldest_first_and_skips_those_others_hold(
    backend: Backend,
) -> None:
    async with backend.open() as store:
        ids = await running(store, 4)
        now = T0 + at(10)
        first = await store.claim_due(now, [_S.RUNNING], lease=lease("A", at(10)), limit=2)
        assert [j.id for j in first] == ids[:2]
        # B finds only what A does not hold; A may take its own again (and the rest)
        second = await store.claim_due(now, [_S.RUNNING], lease=lease("B", at(20)), limit=10)
        assert [j.id for j in second] == ids[2:]
        again = await store.claim_due(now, [_S.RUNNING], lease=lease("A", at(10)), limit=10)
        assert [j.id for j in again] == ids[:2]
        # not due, or another status: never claimed
        assert await store.claim_due(T0 - at(1), [_S.RUNNING], lease=lease("C"), limit=10) == []
        assert await store.claim_due(now, [_S.PENDING], lease=lease("C", at(10)), limit=10) == []
        # once A's lease has run out (its until, on the claimer's clock), anyone may take them
        later = T0 + at(10) + LIFE
        taken = await store.claim_due(later, [_S.RUNNING], lease=lease("C", at(30)), limit=10)
        assert [j.id for j in taken] == ids[:2]


async def test_a_claim_changes_nothing_a_save_compares(backend: Backend) -> None:
    """A lease is about who works on a job, not about the job: its row version stays, so a
    front-end's save of the same copy still goes through."""
    async with backend.open() as store:
        (job_id,) = await running(store, 1)
        before = await store.get_job(job_id)
        (claimed,) = await store.claim_due(T0, [_S.RUNNING], lease=lease("A"), limit=1)
        assert claimed == before
        assert before is not None
        assert await store.save(before, dataclasses.replace(before, attempts=1)) is not None


async def test_deliverable_and_upload_claims(backend: Backend) -> None:
    async with backend.open() as store:
        post = await store.insert_job(record(status=_S.FAILED, deliver_at=T0))
        audio = record(status=_S.QUEUED, audio_path="/m/a.mp3", next_at=T0)
        upload = await store.insert_job(audio)
        got = await store.claim_deliverable(T0, lease=lease("A"), limit=5)
        assert [j.id for j in got] == [post.id]
        assert await store.claim_deliverable(T0, lease=lease("B"), limit=5) == []
        got = await store.claim_uploads(T0, fresh_until=T0 + at(3600), lease=lease("A"), limit=5)
        assert [j.id for j in got] == [upload.id]
        assert await store.claim_uploads(T0, fresh_until=T0, lease=lease("B"), limit=5) == []


async def test_stale_claims_take_only_what_nobody_holds(backend: Backend) -> None:
    """A SUBMITTING row is someone's create in flight until its lease runs out."""
    async with backend.open() as store:
        cap = SlotCap("wan2.6-i2v-flash", 5, frozenset(SLOT_STATUSES))
        job = await store.insert_job(record())
        sending = dataclasses.replace(job, status=_S.SUBMITTING)
        assert await store.save_within(job, sending, cap, lease=lease("A"), now=T0) is not None
        orphan = await store.insert_job(record(status=_S.SUBMITTING))  # no lease at all
        stale = await store.claim_stale(
            T0 + at(5), [_S.SUBMITTING], lease=lease("B", at(5)), limit=9
        )
        assert [j.id for j in stale] == [orphan.id]
        # not even its own holder takes a live one over: that create is still on the wire
        mine = await store.claim_stale(T0 + at(5), [_S.SUBMITTING], lease=lease("A"), limit=9)
        assert mine == []
        expired = T0 + LIFE
        stale = await store.claim_stale(expired, [_S.SUBMITTING], lease=lease("C"), limit=9)
        assert [j.id for j in stale] == [job.id]


async def test_renew_keeps_a_lease_and_release_lets_go_of_all_but_the_busy(
    backend: Backend,
) -> None:
    async with backend.open() as store:
        ids = await running(store, 3, step=0)
        await store.claim_due(T0, [_S.RUNNING], lease=lease("A"), limit=3)
        assert await store.renew_leases("A", T0 + at(60)) == 3
        assert await store.renew_leases("nobody", T0 + at(60)) == 0
        # past the first expiry, the renewed leases still hold
        after = T0 + LIFE + at(1)
        assert await store.claim_due(after, [_S.RUNNING], lease=lease("B"), limit=3) == []
        assert await store.release_leases("A", keep=[ids[1]]) == 2
        taken = await store.claim_due(after, [_S.RUNNING], lease=lease("B"), limit=3)
        assert sorted(j.id for j in taken) == [ids[0], ids[2]]
        assert await store.release_leases("A") == 1
        assert await store.release_leases("B") == 2


async def test_next_due_counts_a_job_another_worker_holds_from_when_its_lease_ends(
    backend: Backend,
) -> None:
    async with backend.open() as store:
        await running(store, 2, step=5)  # due at T0 and T0 + 5
        await store.claim_due(T0, [_S.RUNNING], lease=lease("A"), limit=1)
        assert await store.next_due([_S.RUNNING]) == T0
        assert await store.next_due([_S.RUNNING], owner="A") == T0
        # for B the first job is due only when A's lease ends
        assert await store.next_due([_S.RUNNING], owner="B") == T0 + at(5)
        await store.claim_due(T0 + at(5), [_S.RUNNING], lease=lease("A", at(5)), limit=2)
        assert await store.next_due([_S.RUNNING], owner="B") == T0 + at(5) + LIFE


async def test_clear_drops_every_lease_and_role(backend: Backend) -> None:
    async with backend.open() as store:
        await running(store, 2, step=0)
        await store.claim_due(T0, [_S.RUNNING], lease=lease("A"), limit=2)
        assert await store.take_role("leader", lease("A"), T0)
        assert await store.clear_leases() == 2
        assert len(await store.claim_due(T0, [_S.RUNNING], lease=lease("B"), limit=2)) == 2
        assert await store.take_role("leader", lease("B"), T0)


async def test_a_role_has_one_holder_until_it_lets_it_expire(backend: Backend) -> None:
    async with backend.open() as store:
        assert await store.take_role("leader", lease("A"), T0)
        assert not await store.take_role("leader", lease("B"), T0 + at(5))
        assert await store.take_role("leader", lease("A", at(15)), T0 + at(15))  # renewed
        assert not await store.take_role("leader", lease("B", at(30)), T0 + at(30))
        assert await store.take_role("other", lease("B", at(30)), T0 + at(30))
        assert await store.take_role("leader", lease("B", at(35)), T0 + at(35))  # A went quiet
        assert not await store.take_role("leader", lease("A", at(36)), T0 + at(36))


async def test_the_submitting_write_takes_a_slot_and_the_lease_or_nothing(
    backend: Backend,
) -> None:
    async with backend.open() as store:
        cap = SlotCap("wan2.6-i2v-flash", 2, frozenset(SLOT_STATUSES))
        await store.insert_job(record(status=_S.RUNNING, task_id="busy"))
        # another model's task takes no slot of this one
        other = dataclasses.replace(record().spec, model="wan2.2-i2v-flash")
        await store.insert_job(record(status=_S.RUNNING, task_id="x", spec=other))
        a, b = await store.insert_job(record()), await store.insert_job(record())

        def sending(job: JobRecord) -> JobRecord:
            return transition(job, _S.SUBMITTING, T0, submit_started_at=T0)

        first = await store.save_within(a, sending(a), cap, lease=lease("A"), now=T0, durable=True)
        assert first is not None and first.version == a.version + 1
        # the last slot is gone: refused, nothing written
        assert await store.save_within(b, sending(b), cap, lease=lease("A"), now=T0) is None
        assert await store.get_job(b.id) == b
        # the written row carries A's lease: B may not take it over while it runs
        stale = await store.claim_stale(T0 + at(1), [_S.SUBMITTING], lease=lease("B"), limit=5)
        assert stale == []
        # a stale copy is refused like any save
        wider = SlotCap(cap.model, 5, cap.statuses)
        assert await store.save_within(a, sending(a), wider, lease=lease("A"), now=T0) is None


async def test_the_submitting_write_waits_for_another_workers_lease(backend: Backend) -> None:
    async with backend.open() as store:
        cap = SlotCap("wan2.6-i2v-flash", 5, frozenset(SLOT_STATUSES))
        job = await store.insert_job(record(audio_path="/m/a.mp3", next_at=T0))
        await store.claim_uploads(T0, fresh_until=T0 + at(60), lease=lease("A"), limit=1)
        new = transition(job, _S.SUBMITTING, T0)
        assert await store.save_within(job, new, cap, lease=lease("B"), now=T0) is None
        assert await store.save_within(job, new, cap, lease=lease("A"), now=T0) is not None


async def test_a_task_id_belongs_to_one_job_and_both_backends_say_so_alike(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    async with backend.open() as store:
        await store.insert_job(record(status=_S.RUNNING, task_id="same"))
        with pytest.raises(TaskTakenError) as raised:
            await store.insert_job(record(status=_S.RUNNING, task_id="same"))
        assert raised.value.task_id == "same"
        job = await store.insert_job(record(status=_S.SUBMIT_UNKNOWN))
        claimed = dataclasses.replace(job, status=_S.RUNNING, task_id="same")
        with pytest.raises(TaskTakenError):
            await store.save(job, claimed)
        with pytest.raises(TaskTakenError):
            await store.save(job, claimed, durable=True)
        cap = SlotCap("wan2.6-i2v-flash", 9, frozenset(SLOT_STATUSES))
        with pytest.raises(TaskTakenError):
            await store.save_within(job, claimed, cap, lease=lease("A"), now=T0)
        # the checked save gives such a change up, saying why, and the row stays as it was
        with caplog.at_level(logging.ERROR, logger="core.rows"):
            assert await update(store, job, lambda j: claimed) is None
        assert "task same already belongs to another job" in caplog.text
        assert await store.get_job(job.id) == job
