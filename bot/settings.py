"""Typed settings, read once from the environment (after ``load_dotenv()``) in ``main()``.

Nothing below ``bot/`` reads the environment; everything is handed in from here.
Secrets are ``repr=False`` so they never show up in logs or tracebacks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.domain.catalog import BASE_URLS, Region
from core.domain.errors import ConfigError

#: levels ``logging`` accepts by name (a bad one would crash ``setLevel`` with a traceback)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: 100 years: "keep forever" for practical purposes, and ``now - timedelta(days=…)`` stays valid
MAX_RETENTION_DAYS = 36_500.0
#: Discord snowflakes are unsigned 64-bit integers
MAX_SNOWFLAKE = 2**64 - 1


@dataclass(frozen=True, slots=True)
class DashScopeSettings:
    api_key: str | None = field(repr=False, default=None)
    region: Region = Region.BEIJING
    #: explicit base URL (``DASHSCOPE_BASE_URL`` or the SDK's ``DASHSCOPE_HTTP_BASE_URL``)
    base_url_override: str | None = None

    @property
    def base_url(self) -> str:
        return (self.base_url_override or BASE_URLS[self.region]).rstrip("/")

    @property
    def is_official_host(self) -> bool:
        return (
            self.base_url_override is None
            or self.base_url_override.rstrip("/") in BASE_URLS.values()
        )


@dataclass(frozen=True, slots=True)
class Settings:
    dashscope: DashScopeSettings
    discord_token: str | None = field(repr=False, default=None)
    database_path: Path = Path("data/animate.db")
    #: a PostgreSQL URL: jobs live there and any number of processes share them (SQLite at
    #: ``database_path`` otherwise, one process). May hold a password: never in ``repr``.
    database_url: str | None = field(repr=False, default=None)
    #: False (``ENGINE=off``): ``animate-bot run`` is a front-end only; workers run elsewhere
    engine: bool = True
    #: Discord sharding (``DISCORD_SHARD_COUNT`` / ``DISCORD_SHARD_IDS``): this process runs
    #: ``shard_ids`` (all when None) of ``shard_count`` (Discord's recommendation when None)
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    media_dir: Path = Path("data/media")
    dev_guild_id: int | None = None
    media_retention_days: float = 7.0
    #: queued + running jobs one user may have at once (0 = unlimited)
    limit_user_active_jobs: int = 3
    log_level: str = "INFO"

    @property
    def state_dir(self) -> Path:
        """Where this process keeps its own files (heartbeat, command-sync state): next to the
        SQLite file, which with PostgreSQL only names this directory."""
        return self.database_path.parent

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Everything the logs must never show."""
        password = urlsplit(self.database_url).password if self.database_url else None
        return (self.discord_token, self.dashscope.api_key, password)


_PG_SCHEMES = ("postgresql://", "postgres://")
_SWITCH = {"on": True, "true": True, "1": True, "yes": True}
_SWITCH |= {"off": False, "false": False, "0": False, "no": False}
#: far beyond any bot's need (Discord recommends one shard per 1000 guilds)
MAX_SHARDS = 10_000


def database_url(env: Mapping[str, str], problems: list[str]) -> str | None:
    url = (env.get("DATABASE_URL") or "").strip()
    if not url:
        return None
    if not url.startswith(_PG_SCHEMES):
        # the URL itself may hold a password: never repeat it
        problems.append(
            "DATABASE_URL is not a PostgreSQL URL (postgresql://user:password@host:5432/dbname)"
        )
        return None
    return url


def engine_switch(env: Mapping[str, str], problems: list[str]) -> bool:
    raw = (env.get("ENGINE") or "on").strip()
    if raw.lower() not in _SWITCH:
        problems.append(f"ENGINE={raw!r} is not on or off")
        return True
    return _SWITCH[raw.lower()]


def _shards(
    env: Mapping[str, str], problems: list[str]
) -> tuple[int | None, tuple[int, ...] | None]:
    raw_count = (env.get("DISCORD_SHARD_COUNT") or "").strip()
    raw_ids = (env.get("DISCORD_SHARD_IDS") or "").strip()
    count: int | None = None
    if raw_count:
        if not (raw_count.isascii() and raw_count.isdigit() and 1 <= int(raw_count) <= MAX_SHARDS):
            problems.append(
                f"DISCORD_SHARD_COUNT={raw_count!r} is not a whole number from 1 to {MAX_SHARDS}"
            )
            return None, None
        count = int(raw_count)
    if not raw_ids:
        return count, None
    if count is None:
        problems.append(
            "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total over all processes)"
        )
        return None, None
    parts = [p.strip() for p in raw_ids.split(",")]
    if not all(p.isascii() and p.isdigit() and int(p) < count for p in parts):
        problems.append(
            f"DISCORD_SHARD_IDS={raw_ids!r} is not a comma-separated list of shard numbers "
            f"from 0 to {count - 1}"
        )
        return count, None
    ids = tuple(sorted({int(p) for p in parts}))
    return count, ids


def _region(value: str | None) -> Region:
    if not value:
        return Region.BEIJING
    try:
        return Region(value.strip())
    except ValueError:
        names = ", ".join(r.value for r in Region)
        raise ConfigError(
            f"DASHSCOPE_REGION={value!r} is not a known region; use one of: {names}."
        ) from None


def dashscope_from_env(env: Mapping[str, str] | None = None) -> DashScopeSettings:
    env = os.environ if env is None else env
    override = env.get("DASHSCOPE_BASE_URL") or env.get("DASHSCOPE_HTTP_BASE_URL") or None
    return DashScopeSettings(
        api_key=(env.get("DASHSCOPE_API_KEY") or "").strip() or None,
        region=_region(env.get("DASHSCOPE_REGION")),
        base_url_override=override,
    )


def number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    low: float,
    high: float,
    problems: list[str],
) -> float:
    """``env[name]`` as a finite number in ``[low, high]``; else a line in ``problems``.

    ``float()`` accepts ``nan``, ``inf`` and negatives: each would pass silently and misbehave
    later (a retention of ``nan`` raises on every purge pass, a negative one deletes every video
    at once), so the range is checked here, where the message can name the variable.
    """
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not a number")
        return default
    if not (math.isfinite(value) and low <= value <= high):
        problems.append(f"{name}={raw!r} is out of range (use a number from {low:g} to {high:g})")
        return default
    return value


def whole(
    env: Mapping[str, str], name: str, default: int, *, high: int, problems: list[str]
) -> int:
    """``env[name]`` as a whole number in ``[0, high]`` (0 = unlimited); else a line in
    ``problems``."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and int(raw) <= high):
        problems.append(f"{name}={raw!r} is not a whole number from 0 to {high} (0 = unlimited)")
        return default
    return int(raw)


def _guild_id(env: Mapping[str, str], problems: list[str]) -> int | None:
    raw = (env.get("DEV_GUILD_ID") or "").strip()
    if not raw:
        return None
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_SNOWFLAKE):
        problems.append(f"DEV_GUILD_ID={raw!r} is not a numeric guild id")
        return None
    return int(raw)


def from_env(env: Mapping[str, str] | None = None, *, need_discord: bool = True) -> Settings:
    """Build settings; one ``ConfigError`` names every missing or malformed variable."""
    env = os.environ if env is None else env
    problems: list[str] = []
    token = (env.get("DISCORD_TOKEN") or "").strip() or None
    if need_discord and token is None:
        problems.append("DISCORD_TOKEN is missing (the bot token from the Developer Portal)")
    try:
        dashscope = dashscope_from_env(env)
    except ConfigError as exc:
        problems.append(exc.message.rstrip("."))
        dashscope = dashscope_from_env({**env, "DASHSCOPE_REGION": ""})
    if dashscope.api_key is None:
        problems.append(
            "DASHSCOPE_API_KEY is missing (a Model Studio key of the region in DASHSCOPE_REGION)"
        )
    dev_guild = _guild_id(env, problems)
    retention = number(
        env, "MEDIA_RETENTION_DAYS", 7.0, low=0.0, high=MAX_RETENTION_DAYS, problems=problems
    )
    log_level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL={log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    active_cap = whole(env, "LIMIT_USER_ACTIVE_JOBS", 3, high=10_000, problems=problems)
    db_url = database_url(env, problems)
    engine = engine_switch(env, problems)
    if not engine and db_url is None and "DATABASE_URL" not in " ".join(problems):
        problems.append(
            "ENGINE=off needs DATABASE_URL: a front-end alone needs a worker process elsewhere "
            "sharing its PostgreSQL database (SQLite serves one process)"
        )
    shard_count, shard_ids = _shards(env, problems)
    if problems:
        raise ConfigError("Configuration problem: " + "; ".join(problems) + ".")
    db = Path(env.get("DATABASE_PATH") or "data/animate.db").expanduser()
    media = Path(env.get("MEDIA_DIR") or str(db.parent / "media")).expanduser()
    return Settings(
        dashscope=dashscope,
        discord_token=token,
        database_path=db,
        media_dir=media,
        dev_guild_id=dev_guild,
        media_retention_days=retention,
        limit_user_active_jobs=active_cap,
        log_level=log_level,
        database_url=db_url,
        engine=engine,
        shard_count=shard_count,
        shard_ids=shard_ids,
    )
