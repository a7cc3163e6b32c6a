"""SQLite persistence: the job store and its numbered migrations (the only package with SQL)."""

from storage.sqlite import SqliteJobStore

__all__ = ["SqliteJobStore"]
