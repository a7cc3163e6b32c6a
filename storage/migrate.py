"""Numbered, forward-only ``.sql`` migrations, applied at startup in one transaction.

The applied version lives in ``PRAGMA user_version``; ``0001_jobs.sql`` is version 1.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

import aiosqlite

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations(package: str = "storage.migrations") -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped in ``package``, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise RuntimeError(f"migration {name} is out of sequence (expected {expected:04d}_…)")
    return found


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply every migration newer than the database's ``user_version``; return the version."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    shipped = migrations()
    if current > len(shipped):
        raise RuntimeError(f"database schema {current} is newer than this code")
    pending = [m for m in shipped if m[0] > current]
    if not pending:
        return current
    # One transaction for all pending files: a failure leaves the database untouched.
    await db.execute("BEGIN IMMEDIATE")
    try:
        for version, name, sql in pending:
            log.info("applying migration %s", name)
            for statement in _statements(sql):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {version:d}")
    except BaseException:
        await db.rollback()
        raise
    await db.commit()
    return pending[-1][0]


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (no semicolons inside our SQL literals)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
