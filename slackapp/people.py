"""Who is clicking: a user's language and whether they administer the workspace.

No Slack payload carries a locale (§11): ``users.info(include_locale=true)`` does, and says
``is_admin``/``is_owner`` too, which decides who may cancel or regenerate someone else's job.
Answers are cached per (team, user) for ``ttl`` seconds (Tier 4, but a busy channel should not
spend its budget on the same person). A failed lookup answers English and "not an admin",
briefly cached, so a Slack hiccup can refuse a moderator but never grants anyone a right.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.i18n import ENGLISH, locale_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Person:
    locale: str
    admin: bool


UNKNOWN = Person(ENGLISH, admin=False)


class People:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 600.0,
        failure_ttl: float = 30.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.now = now
        self._cache: dict[tuple[str, str], tuple[float, Person]] = {}

    async def get(self, team: str, user: str) -> Person:
        key = (team, user)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self.now():
            return hit[1]
        try:
            answer = await self.client.users_info(user=user, include_locale=True)
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning("users.info for %s failed (%s); answering in English", user, _reason(exc))
            self._cache[key] = (self.now() + self.failure_ttl, UNKNOWN)
            return UNKNOWN
        data = answer.get("user") or {}
        person = Person(
            locale_of(data.get("locale")),
            admin=bool(
                data.get("is_admin") or data.get("is_owner") or data.get("is_primary_owner")
            ),
        )
        self._cache[key] = (self.now() + self.ttl, person)
        return person

    async def locale(self, team: str, user: str, *, within: float) -> str:
        """The user's catalog locale, or English when Slack takes longer than ``within``
        seconds (a modal must open while its 3 s trigger is still valid)."""
        try:
            async with asyncio.timeout(within):
                return (await self.get(team, user)).locale
        except TimeoutError:
            return ENGLISH


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
