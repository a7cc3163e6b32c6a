"""Files a crash left behind: partial downloads and re-encodes, inputs whose job was never recorded.

A download or a re-encode writes ``<name>.part`` and renames it when complete; a crash before the
rename leaves the part. Submit writes the normalised inputs and then inserts the job row; a crash
in between leaves inputs no row names. Neither is ever read again, so the startup sweep deletes
them. Blocking: call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_JOB_FILE = re.compile(r"^job-(\d+)[.-]")


def sweep(
    media_dir: Path, *, referenced: Iterable[str], busy_jobs: set[int], writing: set[str]
) -> list[Path]:
    """Delete leftovers under ``media_dir``; return what was deleted.

    ``referenced``: paths job rows name (compared by file name: input names are unique, and a
    row may spell the directory differently); ``busy_jobs``: jobs whose download or re-encode is
    running in this process; ``writing``: input file names a submit is writing right now.
    """
    keep = {Path(p).name for p in referenced} | writing
    removed: list[Path] = []
    videos = media_dir / "videos"
    if videos.is_dir():
        for part in videos.glob("*.part"):
            owner = _JOB_FILE.match(part.name)
            if owner is not None and int(owner.group(1)) in busy_jobs:
                continue
            part.unlink(missing_ok=True)
            removed.append(part)
    inputs = media_dir / "inputs"
    if inputs.is_dir():
        for path in inputs.iterdir():
            if path.is_file() and path.name not in keep:
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        log.info("removed %d leftover files: %s", len(removed), ", ".join(p.name for p in removed))
    return removed
