"""Container health check: healthy while the delivery loop's heartbeat file is fresh.

``python -m bot.health`` exits 0 when ``<database dir>/heartbeat`` was touched within
``HEALTH_MAX_AGE`` seconds (default 180), 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HEARTBEAT_NAME = "heartbeat"


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


def main() -> int:
    db = Path(os.environ.get("DATABASE_PATH") or "data/animate.db")
    max_age = float(os.environ.get("HEALTH_MAX_AGE") or 180)
    return 0 if is_fresh(db, max_age) else 1


if __name__ == "__main__":
    sys.exit(main())
