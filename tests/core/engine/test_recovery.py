"""The startup sweep of what a crash left behind (issue 8.8)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core.domain.jobs import JobStatus
from core.engine.retention import sweep_leftovers
from core.ports import JobStore
from storage.postgres import PostgresJobStore
from tests.core.fakes import FakeClock, RecordingPort, png
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
