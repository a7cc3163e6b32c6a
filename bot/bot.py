"""``AnimateBot``: the ``commands.Bot`` subclass, with everything handed in by the runner.

It adds the cogs, registers the restart-proof buttons, and registers its ``DiscordPort`` in the
engine's ``DeliveryRouter`` (ready once the client is): the worker delivers through it, the bot
never drives the engine.

Sharding (``ShardedAnimateBot``, discord.py's ``AutoShardedBot`` under the same class): one
process runs ``shard_ids`` of ``shard_count`` shards (``DISCORD_SHARD_COUNT`` /
``DISCORD_SHARD_IDS``; all of them when no ids are given). Several processes share the jobs
through PostgreSQL, and only the process running shard 0 syncs the application commands (they
are global: one sync serves every shard).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import AdminCog
from bot.tree import AnimateTree
from cogs.animate import AnimateCog
from cogs.buttons import BUTTONS
from cogs.config import ConfigCog
from cogs.history import JobsCog
from cogs.port import DiscordPort
from cogs.translator import CatalogTranslator
from cogs.usage_report import UsageCog
from core.app.service import AnimateService
from core.domain.catalog import Region
from core.engine.router import DeliveryRouter

#: the ``ChatRef.platform`` of jobs started on Discord
PLATFORM = "discord"

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Guilds only: slash commands, buttons and threads need nothing privileged."""
    out = discord.Intents.none()
    out.guilds = True
    return out


class AnimateBot(commands.Bot):
    def __init__(
        self,
        *,
        service: AnimateService,
        router: DeliveryRouter,
        region: Region,
        state_dir: Path,
        dev_guild_id: int | None = None,
        force_sync: bool = False,
        guild_ready_timeout: float = 2.0,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=AnimateTree,
            help_command=None,
            guild_ready_timeout=guild_ready_timeout,
            **_sharding(shard_count, shard_ids),
        )
        #: this process syncs the commands (the one running shard 0, or the only one)
        self.syncs_commands = shard_ids is None or 0 in shard_ids
        self.service = service
        self.router = router
        self.port = DiscordPort(self)
        self.region = region
        self.state_dir = state_dir
        self.dev_guild_id = dev_guild_id
        self.force_sync = force_sync
        self.synced: list[str] = []  # scopes synced by this process (for logs and tests)

    async def setup_hook(self) -> None:
        # Cogs get their dependencies through the constructor rather than load_extension(),
        # which can only hand them the bot (docs/ARCHITECTURE.md: nothing below bot/ builds its
        # own dependencies).
        await self.add_cog(AnimateCog(self, self.service, self.region))
        await self.add_cog(JobsCog(self, self.service))
        await self.add_cog(UsageCog(self, self.service))
        await self.add_cog(ConfigCog(self, self.service, self.region))
        await self.add_cog(AdminCog(self))
        # descriptions, option names and choices in every language of the catalogs
        await self.tree.set_translator(CatalogTranslator())
        self.add_dynamic_items(*BUTTONS)
        # posting needs a logged-in client and the guild cache (upload limits, permissions):
        # until the client is ready, the router leaves Discord jobs due
        self.router.register(PLATFORM, self.port, ready=self.is_ready)
        if self.syncs_commands:
            await self.sync_commands(force=self.force_sync)

    async def close(self) -> None:
        self.router.unregister(PLATFORM)
        await super().close()

    # ------------------------------------------------------------------ command sync
    @property
    def _sync_state(self) -> Path:
        return self.state_dir / "commands.sync.json"

    async def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        """What ``tree.sync`` sends: every command with its translations (the per-locale
        ``name_localizations`` / ``description_localizations`` the translator gives)."""
        commands_ = self.tree.get_commands(guild=guild)
        translator = self.tree.translator
        if translator is None:
            return [c.to_dict(self.tree) for c in commands_]
        return [await c.get_translated_payload(self.tree, translator) for c in commands_]

    async def command_hash(self, guild: discord.abc.Snowflake | None) -> str:
        """The payload's digest: a changed signature *or translation* makes a new sync."""
        payload = await self.command_payload(guild)
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    async def sync_commands(self, *, force: bool = False) -> list[str]:
        """Sync only when the command signatures changed since the last sync (or forced).

        Discord allows 200 command creates per guild per day; syncing blindly on every start
        burns them (reference §A.2). The hash of the payload lives next to the database.
        """
        guild = discord.Object(self.dev_guild_id) if self.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        scope = str(self.dev_guild_id) if guild else "global"
        digest = await self.command_hash(guild)
        state = self._read_sync_state()
        if not force and state.get(scope) == digest:
            log.info("application commands unchanged (%s); not syncing", scope)
            return []
        try:
            await self.tree.sync(guild=guild)
        except (discord.HTTPException, app_commands.CommandSyncFailure) as exc:
            log.error("command sync (%s) failed: %s", scope, exc)
            return []
        state[scope] = digest
        self._write_sync_state(state)
        self.synced.append(scope)
        log.info("application commands synced (%s)", scope)
        return [scope]

    def _read_sync_state(self) -> dict[str, str]:
        try:
            data = json.loads(self._sync_state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_sync_state(self, state: dict[str, str]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._sync_state.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(self._sync_state)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))


class ShardedAnimateBot(AnimateBot, commands.AutoShardedBot):
    """``AnimateBot`` running ``shard_ids`` of ``shard_count`` shards in this process.

    Still an ``AnimateBot`` (and a ``commands.Bot``) for everything that holds one; the method
    order puts ``AutoShardedClient``'s connection handling ahead of ``Client``'s."""


def _sharding(count: int | None, ids: Sequence[int] | None) -> dict[str, Any]:
    if count is None:
        return {}
    return {"shard_count": count, "shard_ids": list(ids) if ids is not None else None}


def make_bot(*, shard_count: int | None, **options: Any) -> AnimateBot:
    """A ``ShardedAnimateBot`` when a shard count is set, else a plain ``AnimateBot``."""
    cls = AnimateBot if shard_count is None else ShardedAnimateBot
    return cls(shard_count=shard_count, **options)
