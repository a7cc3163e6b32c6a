"""After a crash: the startup sweep of leftover files (issue 8.8), and recovery that scales with
what needs recovering, not with the table (issue 12.4)."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.engine.recovery import resume
from core.engine.retention import sweep_leftovers
from core.ports import JobStore
from storage.postgres import PostgresJobStore
from tests.core.fakes import T0, FakeClock, RecordingPort, png
from tests.core.rig import CHAT, SPEC, Rig, run_until


async def test_recover_deletes_partial_files_and_inputs_no_job_names(
    service: Rig,
    store: JobStore,
    clock: FakeClock,
    port: RecordingPort,
    tmp_path: Path,
) -> None:
    view = await service.submit(spec=SPEC, image=png(), chat=CHAT)
    media = tmp_path / "media"
    (media / "videos").mkdir(parents=True)
    stale = [
        media / "videos" / "job-7.mp4.part",  # a download cut short
        media / "videos" / "job-7-fit-1000.mp4.part",  # a re-encode cut short
        media / "inputs" / "0123abcd.png",  # written by a submit that never recorded its row
        media / "inputs" / "feedbeef.mp3",
    ]
    two_hours_ago = time.time() - 7200
    for path in stale:
        path.write_bytes(b"partial")
        os.utime(path, (two_hours_ago, two_hours_ago))
    finished = media / "videos" / "job-9.mp4"  # a complete file is not a leftover
    finished.write_bytes(b"mp4")
    # written a moment ago, no row names it yet: on a shared store another process may be
    # between writing it and recording its job (or still downloading into it)
    fresh = [media / "inputs" / "5678cdef.png", media / "videos" / "job-8.mp4.part"]
    for path in fresh:
        path.write_bytes(b"being written")
    job = await store.get_job(view.id)
    assert job is not None and job.image_path is not None
    await service.recover()
    assert [p for p in stale if _exists(p)] == []
    assert _exists(Path(job.image_path)) and _exists(finished)
    shared = isinstance(store, PostgresJobStore)
    assert [_exists(p) for p in fresh] == [shared, shared]
    await run_until(service, clock, port, {JobStatus.DELIVERED}, [view.id])


def test_the_sweep_spares_busy_downloads_and_inputs_being_written(tmp_path: Path) -> None:
    videos, inputs = tmp_path / "videos", tmp_path / "inputs"
    videos.mkdir()
    inputs.mkdir()
    busy = videos / "job-3.mp4.part"
    writing = inputs / "aaaa.png"
    named = inputs / "bbbb.png"
    orphan = inputs / "cccc.png"
    for path in (busy, writing, named, orphan):
        path.write_bytes(b"x")
    removed = sweep_leftovers(
        tmp_path,
        # a row may spell the directory differently: the unique file name is what counts
        referenced=["/elsewhere/inputs/bbbb.png"],
        busy_jobs={3},
        writing={"aaaa.png"},
    )
    assert removed == [orphan]
    assert busy.exists() and writing.exists() and named.exists()


def _exists(path: Path) -> bool:
    return path.exists()


class ReadCounter:
    """A store that counts the job rows its callers read (every other call passes through)."""

    def __init__(self, inner: JobStore) -> None:
        self.inner = inner
        self.rows = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def counted(*args: Any, **kw: Any) -> Any:
            got = await method(*args, **kw)
            if isinstance(got, list):
                self.rows += sum(isinstance(r, JobRecord) for r in got)
            elif isinstance(got, JobRecord):
                self.rows += 1
            return got

        return counted


async def test_recovery_reads_only_what_a_crash_leaves_behind(store: JobStore) -> None:
    """Issue 12.4: a deep queue is not read into memory to find the few rows to fix."""
    now = T0 + timedelta(minutes=10)
    base = JobRecord(0, JobStatus.QUEUED, SPEC, CHAT, "cn-beijing", T0, T0, "CNY")
    for i in range(300):
        await store.insert_job(dataclasses.replace(base, next_at=T0 + timedelta(seconds=i)))
    lost = await store.insert_job(base)  # its schedule was lost
    untold = await store.insert_job(dataclasses.replace(base, status=JobStatus.FAILED))
    cut = await store.insert_job(
        dataclasses.replace(base, status=JobStatus.SUBMITTING, submit_started_at=T0)
    )
    counter = ReadCounter(store)
    fixed = await resume(cast(JobStore, counter), now)
    assert fixed == 2
    # not one row read: a create cut short is ``take_over``'s, once nobody holds its lease
    assert counter.rows == 0
    rescheduled, told, left = [await store.get_job(j.id) for j in (lost, untold, cut)]
    assert rescheduled is not None and rescheduled.next_at == now
    assert told is not None and told.deliver_at == now
    assert left is not None and left.status is JobStatus.SUBMITTING
