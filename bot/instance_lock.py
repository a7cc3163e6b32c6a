"""One bot process per SQLite data directory.

A second process on the same file would run recovery on the first one's in-flight jobs (turning
its SUBMITTING jobs into SUBMIT_UNKNOWN) and both would deliver the same results. The lock is an
OS file lock (``flock``) on ``<data dir>/animate-bot.lock``, held as long as the file stays open:
the kernel releases it when the process ends, however it ends (kill -9 included), so a stale lock
file never blocks a restart. A store that supports many processes (PostgreSQL) needs no lock;
the runner decides when to apply it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from core.domain.errors import ConfigError

LOCK_NAME = "animate-bot.lock"


class InstanceLocked(ConfigError):
    """Another live process holds the data directory."""


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[Path]:
    """Hold the data directory's lock for the ``with`` block; ``InstanceLocked`` if taken."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    # not O_TRUNC: the holder's pid must stay readable until we own the lock
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise InstanceLocked(
                f"another animate-bot instance{who} is using {data_dir}; stop it first, "
                "or give this one another DATABASE_PATH."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # for the message above, not for locking
        yield path
    finally:
        os.close(fd)  # releases the lock
