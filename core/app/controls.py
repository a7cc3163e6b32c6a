"""Server settings through the facade: the policy that applies to a request, and admins' edits.

Settings live in the store per platform and guild (``JobStore.load_settings``), so a Discord
server and a Slack team get their policy the same way and a restart changes nothing. An edit is a
compare-and-set of one stored value, re-read and re-applied if another admin changed it first.
Only admins (``Member.admin``) may edit; the front-end says who is one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.domain.errors import AnimateError, Kind
from core.domain.guild_settings import (
    SETTINGS,
    OperatorDefaults,
    Resolved,
    ServerSettings,
    SettingError,
    StoredSetting,
    parse,
    to_json,
)
from core.domain.jobs import ChatRef
from core.domain.policy import Member, Policy
from core.ports import Clock, JobStore

log = logging.getLogger(__name__)

#: an edit: the stored value (parsed; None when not set) → the new value (None: unset it)
Edit = Callable[[object | None], object | None]


@dataclass(frozen=True, slots=True)
class SettingsReport:
    """What ``/animate-config show`` lists: every setting's value for the server as a whole
    and where it comes from, and the per-role overrides of the user limits."""

    values: Mapping[str, Resolved]
    roles: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    currency: str = "CNY"


def not_admin() -> AnimateError:
    return AnimateError(
        "Only the server's admins (Manage Server) can change or see this.",
        key="config.not_admin",
        kind=Kind.PERMISSION,
    )


def not_in_server() -> AnimateError:
    return AnimateError(
        "Server settings only exist in a server; use this command there.",
        key="config.not_in_server",
        kind=Kind.INVALID_INPUT,
    )


class Controls:
    def __init__(
        self, *, store: JobStore, clock: Clock, operator: OperatorDefaults, currency: str
    ) -> None:
        self.store = store
        self.clock = clock
        self.operator = operator
        self.currency = currency

    async def server(self, platform: str, guild: str | None) -> ServerSettings:
        """The server's checked settings (none in direct messages)."""
        if guild is None:
            return ServerSettings()
        return ServerSettings.from_rows(await self.store.load_settings(platform, guild))

    async def policy(self, chat: ChatRef, member: Member) -> Policy:
        """What applies to ``member``'s request in ``chat`` (DMs: the operator's defaults)."""
        return Policy.of(await self.server(chat.platform, chat.guild), self.operator, member)

    async def report(self, platform: str, guild: str) -> SettingsReport:
        settings = await self.server(platform, guild)
        values = {name: settings.resolve(name, self.operator) for name in SETTINGS}
        return SettingsReport(values, settings.roles, self.currency)

    async def edit(
        self, chat: ChatRef, member: Member, name: str, edit: Edit, *, role: str | None = None
    ) -> SettingsReport:
        """Apply ``edit`` to setting ``name`` of ``chat``'s server (of ``role``'s override)."""
        guild = _guild_of(chat, member)
        setting = SETTINGS.get(name)
        if setting is None or (role is not None and not setting.per_role):
            raise AnimateError(
                f"{name} cannot be set per role; only the user limits can.",
                key="config.not_per_role",
                params={"name": name},
                kind=Kind.INVALID_INPUT,
            )
        scope = role or ""
        for _ in range(5):
            stored = _find(await self.store.load_settings(chat.platform, guild), scope, name)
            current = _parsed(name, stored)
            try:
                new = edit(current)
                parsed = None if new is None else parse(name, new)
                # an empty list means "no restriction", which is what no value means too
                value = None if parsed is None or parsed == () else to_json(parsed)
            except SettingError as exc:
                raise AnimateError(
                    f"That value does not fit {name}: {exc}.",
                    key="config.invalid",
                    params={"name": name},
                    kind=Kind.INVALID_INPUT,
                ) from exc
            expected = None if stored is None else stored.value
            if await self.store.put_setting(
                chat.platform,
                guild,
                scope,
                name,
                value,
                expected=expected,
                by=chat.user,
                now=self.clock.now(),
            ):
                log.info(
                    "settings of %s/%s: %s%s = %r (by %s)",
                    chat.platform, guild, f"role {role}: " if role else "", name, value, chat.user,
                )  # fmt: skip
                return await self.report(chat.platform, guild)
        raise AnimateError(
            "Someone else is changing this setting right now; try again.",
            key="config.busy",
            kind=Kind.BUSY,
            retryable=True,
        )

    async def show(self, chat: ChatRef, member: Member) -> SettingsReport:
        return await self.report(chat.platform, _guild_of(chat, member))


def _guild_of(chat: ChatRef, member: Member) -> str:
    if chat.guild is None:
        raise not_in_server()
    if not member.admin:
        raise not_admin()
    return chat.guild


def _find(rows: list[StoredSetting], scope: str, name: str) -> StoredSetting | None:
    return next((r for r in rows if r.scope == scope and r.name == name), None)


def _parsed(name: str, row: StoredSetting | None) -> object | None:
    if row is None:
        return None
    try:
        return parse(name, row.value)
    except SettingError:
        return None  # an unreadable value is replaced by the edit


def add_item(item: str) -> Edit:
    def edit(current: object | None) -> object:
        items = list(current) if isinstance(current, tuple) else []
        return [*items, item]

    return edit


def remove_item(item: str, normalise: Callable[[str], str] = str) -> Edit:
    def edit(current: object | None) -> object:
        items = list(current) if isinstance(current, tuple) else []
        return [i for i in items if i != normalise(item)]

    return edit


def set_to(value: object | None) -> Edit:
    return lambda _current: value
