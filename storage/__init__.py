"""Persistence: the job stores (SQLite, PostgreSQL) and their numbered migrations (the only
package with SQL)."""

from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore

__all__ = ["PostgresJobStore", "SqliteJobStore"]
