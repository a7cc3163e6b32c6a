"""The data-directory lock, held by a real second process and released by the kernel on kill -9."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.instance_lock import LOCK_NAME, InstanceLocked, exclusive

ROOT = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys; from pathlib import Path; from bot.instance_lock import exclusive\n"
    "with exclusive(Path(sys.argv[1])):\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.read()\n"  # until the test closes stdin (or kills us)
)


@contextlib.contextmanager
def holder(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock; killed (-9) on exit if still alive."""
    with subprocess.Popen(  # noqa: S603 - this interpreter running a fixed script
        [sys.executable, "-c", HOLD, str(data_dir)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "held\n"  # blocks until the lock is taken
            yield proc
        finally:
            proc.kill()


def test_second_holder_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with holder(data) as proc, pytest.raises(InstanceLocked) as info, exclusive(data):
        pass
    assert f"pid {proc.pid}" in info.value.message
    assert str(data) in info.value.message and "\n" not in info.value.message


def test_kill_9_releases_the_lock(tmp_path: Path) -> None:
    with holder(tmp_path) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert (tmp_path / LOCK_NAME).exists(), "the stale lock file is left behind"
    with exclusive(tmp_path) as path:  # and does not block: the lock died with the process
        assert path.read_text().strip() == str(os.getpid())


def test_same_process_cannot_take_it_twice_and_it_is_released_on_exit(tmp_path: Path) -> None:
    with exclusive(tmp_path), pytest.raises(InstanceLocked), exclusive(tmp_path):
        pass
    with exclusive(tmp_path):
        pass
