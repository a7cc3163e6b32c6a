"""The throwaway cluster CI starts (``python -m tests.pgserver``): reachable only through its
private socket, and gone without a trace once stopped."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "tests.pgserver", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_start_serves_on_a_private_socket_and_stop_deletes_everything() -> None:
    # directly in the system temp dir: as root the postgres user must reach it, and pytest's
    # tmp_path lies under a directory private to root
    base = Path(tempfile.mkdtemp(prefix="animate-pg-cli-"))
    started = _cli("start", str(base))
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            settings: dict[str, str] = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('listen_addresses', 'unix_socket_directories', 'port', 'fsync')"
                ).fetchall()
            )
        assert settings["listen_addresses"] == ""  # no TCP at all
        assert settings["unix_socket_directories"] == str(base)
        assert f"port={settings['port']}" in url and settings["fsync"] == "off"
        refused = _cli("start", str(base))  # not empty: refused, the running one untouched
        assert refused.returncode == 1 and "not empty" in refused.stderr
    finally:
        stopped = _cli("stop", str(base))
    assert stopped.returncode == 0, stopped.stderr
    assert not base.exists()
