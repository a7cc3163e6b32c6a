"""Container health check: the worker's heartbeat is fresh and the database answers.

``python -m bot.health`` (and ``animate-bot health``) exits 0 when ``<database dir>/heartbeat``
was touched within ``HEALTH_MAX_AGE`` seconds (default 180) and a read-only query on the
database succeeds within a few seconds (the SQLite file, or PostgreSQL at ``DATABASE_URL``); 1
otherwise, with one line on stderr saying why. The loop touches the heartbeat only after a pass
that worked, so an engine that fails every pass turns the container unhealthy too, not only one
that stopped. A front-end without an engine (``ENGINE=off``) has no heartbeat: its check is the
database alone.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from dotenv import find_dotenv, load_dotenv

from bot.settings import database_url, engine_switch, number
from core.domain.errors import ConfigError

HEARTBEAT_NAME = "heartbeat"
DEFAULT_MAX_AGE = 180.0
#: seconds to wait for a lock: the bot's own writes are short transactions
DB_TIMEOUT = 3.0
#: Docker reserves exit code 2 for health checks, so a bad setting is reported as unhealthy
UNHEALTHY = 1


def heartbeat_path(database_path: Path) -> Path:
    return database_path.parent / HEARTBEAT_NAME


def touch(database_path: Path) -> None:
    path = heartbeat_path(database_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def is_fresh(database_path: Path, max_age: float, now: float | None = None) -> bool:
    try:
        mtime = heartbeat_path(database_path).stat().st_mtime
    except FileNotFoundError:
        return False
    return (time.time() if now is None else now) - mtime <= max_age


def database_problem(database_path: Path, timeout: float = DB_TIMEOUT) -> str | None:
    """``None`` when the database opens read-only and answers; else what went wrong.

    ``SELECT 1`` alone never reads the file (it succeeds on garbage), so the query reads the
    schema: that needs a readable, valid database and a shared lock within ``timeout``.
    """
    if not database_path.is_file():
        return f"database {str(database_path)!r} does not exist"
    try:
        db = sqlite3.connect(
            f"{database_path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout
        )
        try:
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return f"database {str(database_path)!r} does not answer: {exc}"
    return None


def postgres_problem(url: str, timeout: float = DB_TIMEOUT) -> str | None:
    """``None`` when PostgreSQL at ``url`` answers a query on the schema; else what went wrong
    (without the URL: it may hold a password)."""
    try:
        with psycopg.connect(
            url,
            connect_timeout=max(1, round(timeout)),
            options=f"-c statement_timeout={int(timeout * 1000)}",
        ) as conn:
            conn.execute("SELECT max(version) FROM schema_migrations").fetchall()
    except psycopg.Error as exc:
        password = urlsplit(url).password
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if password:
            reason = reason.replace(password, "[redacted]")
        return f"the PostgreSQL database does not answer: {reason}"
    return None


def check(env: Mapping[str, str]) -> str | None:
    """``None`` when healthy; else one line saying why not."""
    problems: list[str] = []
    max_age = number(
        env, "HEALTH_MAX_AGE", DEFAULT_MAX_AGE, low=1.0, high=7 * 86400.0, problems=problems
    )
    url = database_url(env, problems)
    engine = engine_switch(env, problems)
    if problems:
        raise ConfigError(problems[0])
    db = Path(env.get("DATABASE_PATH") or "data/animate.db").expanduser()
    if engine and not is_fresh(db, max_age):
        return f"no delivery pass succeeded in the last {max_age:g} s (heartbeat {db.parent})"
    return postgres_problem(url) if url is not None else database_problem(db)


def main() -> int:
    load_dotenv(find_dotenv(usecwd=True))  # the same environment the runner reads
    try:
        problem = check(os.environ)
    except ConfigError as exc:
        problem = f"configuration problem: {exc.message}"
    if problem is None:
        return 0
    sys.stderr.write(f"animate-bot health: {problem}\n")
    return UNHEALTHY


if __name__ == "__main__":
    sys.exit(main())
