"""Which job a log line is about: set once where one job's work starts, read by the log format.

``about(job)`` puts the job's id, platform, server (guild / team), user, model and task id in a
context variable for the block; asyncio tasks started inside it (background downloads, fits)
inherit it. ``bot.log`` adds the fields to every record, in text or JSON. The fields are ids,
never tokens or prompts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Protocol

from core.domain.jobs import ChatRef, JobSpec

_NONE: Mapping[str, str] = MappingProxyType({})
_FIELDS: ContextVar[Mapping[str, str]] = ContextVar("animate_job_fields", default=_NONE)


class AboutJob(Protocol):
    """A job row or its view: both say who asked for what."""

    @property
    def id(self) -> int: ...
    @property
    def chat(self) -> ChatRef: ...
    @property
    def spec(self) -> JobSpec: ...
    @property
    def task_id(self) -> str | None: ...


def fields_of(job: AboutJob) -> dict[str, str]:
    fields = {
        "job_id": str(job.id),
        "platform": job.chat.platform,
        "guild": job.chat.guild or "",
        "user_id": job.chat.user,
        "model": job.spec.model,
        "task_id": job.task_id or "",
    }
    return {name: value for name, value in fields.items() if value}


@contextmanager
def about(job: AboutJob) -> Iterator[None]:
    """Every log line inside the block names ``job``."""
    token = _FIELDS.set(MappingProxyType(fields_of(job)))
    try:
        yield
    finally:
        _FIELDS.reset(token)


def current() -> Mapping[str, str]:
    """The fields of the job being worked on (empty outside ``about``)."""
    return _FIELDS.get()
