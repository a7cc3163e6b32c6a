"""A PostgreSQL database of its own for each benchmark run, on the server named by
``BENCH_DATABASE_URL`` (a superuser URL; ``make bench`` starts a throwaway cluster)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

URL_ENV = "BENCH_DATABASE_URL"


def admin_url() -> str:
    url = os.environ.get(URL_ENV, "")
    if urlsplit(url).scheme not in {"postgresql", "postgres"}:
        raise SystemExit(
            f"this benchmark needs a PostgreSQL server: set {URL_ENV} to a superuser "
            "postgresql:// URL (make bench starts a throwaway one)"
        )
    return url


@asynccontextmanager
async def fresh_database(admin: str, name: str) -> AsyncIterator[str]:
    """Create database ``name`` (dropping a leftover), yield its URL, drop it afterwards."""
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(drop)
