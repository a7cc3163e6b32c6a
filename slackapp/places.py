"""Can the bot post in this conversation? Asked before anything is spent.

A command or shortcut works anywhere the user is, but the bot can post only in public channels
(``chat:write.public``), private channels it was invited to, and its own DM with the user (§3,
§10: ``channel_not_found`` / ``not_in_channel`` otherwise). Asking costs one
``conversations.info`` (``channels:read``/``groups:read``) or, for a DM, one
``conversations.open`` (is this DM the bot's own?), cached per conversation for ``ttl``
seconds. When the workspace did not grant the read scope, the check steps aside (the post
itself then reports the problem) rather than refuse everyone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.errors import ValidationError

log = logging.getLogger(__name__)


def cannot_post() -> ValidationError:
    return ValidationError(
        "I can't post in this conversation, so I could not deliver the video. Invite me to "
        "the channel (/invite @animate-bot) or use a public channel; nothing was spent.",
        key="slack.place.cannot_post",
    )


class Places:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 300.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.now = now
        self._known: dict[tuple[str, str], tuple[float, bool]] = {}

    async def check(self, channel: str, user: str) -> None:
        """Raise ``ValidationError`` when the bot could not post the status and result here."""
        key = (channel, user if channel.startswith("D") else "")
        hit = self._known.get(key)
        if hit is None or hit[0] <= self.now():
            ok = await self._ask(channel, user)
            if ok is None:
                return  # could not tell: let the post decide
            hit = (self.now() + self.ttl, ok)
            self._known[key] = hit
        if not hit[1]:
            raise cannot_post()

    async def _ask(self, channel: str, user: str) -> bool | None:
        try:
            if channel.startswith("D"):
                # the only DM the bot can post in is its own with this user
                opened = await self.client.conversations_open(users=user)
                return bool((opened.get("channel") or {}).get("id") == channel)
            info = await self.client.conversations_info(channel=channel)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in ("channel_not_found", "not_in_channel"):
                return False
            log.warning("cannot tell whether %s is postable (%s); trying anyway", channel, error)
            return None
        data = info.get("channel") or {}
        if data.get("is_archived"):
            return False
        # public channels take posts without membership (chat:write.public)
        return bool(data.get("is_member") or not data.get("is_private"))

    def forget(self, channel: str) -> None:
        self._known = {k: v for k, v in self._known.items() if k[0] != channel}
