"""The health check: a fresh heartbeat and a database that answers, from the environment."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import health
from bot.__main__ import main as animate_bot
from storage import PostgresJobStore, SqliteJobStore


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DATABASE_PATH in a fresh directory; no HEALTH_MAX_AGE; no .env in the working dir."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "d" / "animate.db"
    monkeypatch.setenv("DATABASE_PATH", str(db))
    monkeypatch.delenv("HEALTH_MAX_AGE", raising=False)
    yield db


async def real_database(db: Path) -> None:
    """The bot's own store creates it (WAL journal, migrations), then closes it."""
    async with SqliteJobStore.open(db):
        pass


def test_heartbeat_freshness(tmp_path: Path) -> None:
    db = tmp_path / "animate.db"
    assert not health.is_fresh(db, 60)
    health.touch(db)
    mtime = health.heartbeat_path(db).stat().st_mtime
    assert health.is_fresh(db, 60, now=mtime + 59)
    assert not health.is_fresh(db, 60, now=mtime + 61)


async def test_healthy_needs_a_fresh_heartbeat_and_the_database(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await real_database(env)
    assert health.main() == 1, "no heartbeat yet"
    assert "no delivery pass succeeded" in capsys.readouterr().err
    health.touch(env)
    assert health.main() == 0
    os.utime(health.heartbeat_path(env), (0, 0))
    assert health.main() == 1


async def test_open_database_in_wal_mode_answers(env: Path) -> None:
    async with SqliteJobStore.open(env):  # the bot is running: -wal and -shm exist
        health.touch(env)
        assert health.database_problem(env) is None
        assert health.main() == 0


def test_a_fresh_heartbeat_with_a_broken_database_is_unhealthy(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the loop may still tick while the database is gone or corrupted; the check must see it
    health.touch(env)
    assert health.main() == 1
    assert "does not exist" in capsys.readouterr().err
    env.write_bytes(b"not a database" * 512)
    assert health.main() == 1
    err = capsys.readouterr().err
    assert "does not answer" in err and err.count("\n") == 1
    assert env.read_bytes() == b"not a database" * 512, "read-only: the file is untouched"


def test_a_locked_database_fails_within_the_timeout(env: Path) -> None:
    env.parent.mkdir(parents=True)
    holder = sqlite3.connect(env, isolation_level=None)
    try:
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")  # rollback journal: readers are locked out
        problem = health.database_problem(env, timeout=0.05)
    finally:
        holder.close()
    assert problem is not None and "locked" in problem
    assert health.database_problem(env) is None


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "0", "soon"])
def test_bad_max_age_is_one_line_and_unhealthy(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], raw: str
) -> None:
    # inf made every heartbeat fresh forever; "soon" crashed with a traceback
    monkeypatch.setenv("HEALTH_MAX_AGE", raw)
    health.touch(env)
    assert health.main() == 1  # not 2: Docker reserves exit code 2 for health checks
    err = capsys.readouterr().err
    assert "HEALTH_MAX_AGE" in err and err.count("\n") == 1


def test_dotenv_in_the_working_directory_is_read(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEALTH_MAX_AGE", "")  # recorded, so the .env value is undone after
    monkeypatch.delenv("HEALTH_MAX_AGE")
    (tmp_path / ".env").write_text("HEALTH_MAX_AGE=nan\n")
    health.touch(env)
    assert health.main() == 1
    assert "HEALTH_MAX_AGE='nan'" in capsys.readouterr().err


async def test_animate_bot_health_runs_the_same_check(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it used to fall through to the run parser ("unrecognized arguments: health")
    await real_database(env)
    health.touch(env)
    assert animate_bot(["health"]) == 0
    os.utime(health.heartbeat_path(env), (0, 0))
    assert animate_bot(["health"]) == 1
    assert "no delivery pass succeeded" in capsys.readouterr().err
    assert animate_bot(["health", "--verbose"]) == 2


def test_help_lists_health(capsys: pytest.CaptureFixture[str]) -> None:
    assert animate_bot(["--help"]) == 0
    out = capsys.readouterr().out
    assert "health" in out and "animate" in out and "run" in out


async def test_with_postgres_the_check_queries_that_database(
    env: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    health.touch(env)  # the heartbeat still lives in the state directory (DATABASE_PATH's)
    assert health.main() == 1, "no schema yet"
    assert "the PostgreSQL database does not answer" in capsys.readouterr().err
    async with PostgresJobStore.open(pg_url):  # the bot migrates it
        pass
    assert health.main() == 0
    os.utime(health.heartbeat_path(env), (0, 0))
    assert health.main() == 1
    assert "no delivery pass succeeded" in capsys.readouterr().err


def test_an_unreachable_postgres_is_unhealthy_and_its_password_never_printed(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a socket directory with no server in it: refused at once
    monkeypatch.setenv("DATABASE_URL", f"postgresql://bot:pw-9f3a@/db?host={tmp_path}&port=1")
    health.touch(env)
    assert health.main() == 1
    err = capsys.readouterr().err
    assert "the PostgreSQL database does not answer" in err and err.count("\n") == 1
    assert "pw-9f3a" not in err


async def test_a_front_end_without_an_engine_has_no_heartbeat_to_check(
    env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("ENGINE", "off")
    async with PostgresJobStore.open(pg_url):
        pass
    assert not health.heartbeat_path(env).exists()
    assert health.main() == 0
