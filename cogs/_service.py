"""The part of ``core.service.AnimateService`` the Discord adapter calls (the shared contract).

Cogs depend on this protocol rather than on the concrete class so the adapter can be read and
type-checked on its own; ``bot/runner.py`` hands in the real service, which satisfies it
structurally.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from core.jobs import ChatRef, JobSpec, JobView
from core.ports import DeliveryPort


class Service(Protocol):
    def validate(self, spec: JobSpec, *, audio: bool = False) -> JobSpec: ...

    def intake(self, chat: ChatRef) -> AbstractAsyncContextManager[None]:
        """Enter before reading attachment bytes, leave after ``submit`` (per-user cap, and a
        bound on requests holding bytes in memory)."""
        ...

    def estimate(self, spec: JobSpec) -> tuple[float, str]: ...

    async def submit(
        self,
        *,
        spec: JobSpec,
        image: bytes,
        chat: ChatRef,
        audio: bytes | None = None,
        audio_filename: str | None = None,
        parent_job_id: int | None = None,
    ) -> JobView: ...

    async def attach_chat(
        self, job_id: int, *, thread: str | None, status_message: str | None
    ) -> JobView: ...

    async def poll_once(self, now: datetime | None = None) -> object: ...

    async def deliver_once(self, port: DeliveryPort, now: datetime | None = None) -> int: ...

    async def recover(self) -> None: ...

    async def cancel(self, job_id: int, *, user: str, moderator: bool) -> JobView: ...

    async def regenerate(
        self, job_id: int, *, user: str, chat: ChatRef, moderator: bool = False
    ) -> JobView: ...

    async def get(self, job_id: int) -> JobView | None: ...

    async def recent(self, *, platform: str, user: str, limit: int = 10) -> list[JobView]: ...
