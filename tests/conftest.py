"""Fixtures every test package may use: a PostgreSQL server and a fresh database per test.

PostgreSQL: ``TEST_DATABASE_URL`` names a server to use (CI starts one, see ``.ci/run``);
without it the session starts a throwaway cluster itself (``tests.pgserver``) the first time a
test asks for one, and stops it at the end. No server and none startable is a failure, never a
skip.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.pgserver import PgCluster, PgServerError

#: a superuser URL of a PostgreSQL server the tests may create databases on
URL_ENV = "TEST_DATABASE_URL"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    base = Path(tempfile.mkdtemp(prefix="animate-pg-"))
    try:
        cluster = PgCluster.start(base)
    except PgServerError as exc:
        shutil.rmtree(base, ignore_errors=True)
        problem = str(exc)
    else:
        problem = ""
    if problem:  # outside the except: the message alone, not a chained traceback
        pytest.fail(f"the PostgreSQL tests need a server and none could be started: {problem}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


def with_dbname(url: str, name: str) -> str:
    """``url`` naming database ``name``, in the form it came in: a ``postgresql://`` URL (what
    ``DATABASE_URL`` takes) stays one, a ``key=value`` string stays one."""
    parts = urlsplit(url)
    if parts.scheme in {"postgresql", "postgres"}:
        return urlunsplit(parts._replace(path=f"/{name}"))
    return make_conninfo(url, dbname=name)


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database for this test alone (dropped afterwards)."""
    name = f"animate_test_{os.getpid()}_{next(_names)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        # template0: pristine, whatever a shared server's template1 may have been given
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield with_dbname(pg_admin_url, name)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            # FORCE: a test that failed half-way may have left a connection behind
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
