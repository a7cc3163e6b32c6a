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

from core.domain.catalog import BASE_URLS, Region
from core.domain.errors import ConfigError
from core.domain.guild_settings import MAX_MONEY, MAX_WHOLE, OperatorDefaults

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
    media_dir: Path = Path("data/media")
    dev_guild_id: int | None = None
    media_retention_days: float = 7.0
    #: queued + running jobs one user may have at once (0 = unlimited)
    limit_user_active_jobs: int = 3
    #: video-seconds one user may make per UTC day, everywhere (0 = unlimited)
    limit_user_daily_seconds: int = 0
    #: money one server may spend per UTC month, in the region's currency (0 = unlimited)
    limit_guild_monthly_budget: float = 0.0
    #: seconds a user waits between two requests (0 = none)
    limit_cooldown_seconds: int = 0
    log_level: str = "INFO"

    @property
    def operator_limits(self) -> OperatorDefaults:
        """The ``LIMIT_*`` defaults every server starts from (its admins may change them)."""
        return OperatorDefaults(
            active_jobs=self.limit_user_active_jobs,
            daily_seconds=self.limit_user_daily_seconds,
            cooldown_seconds=self.limit_cooldown_seconds,
            monthly_budget=self.limit_guild_monthly_budget,
        )


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
    daily = whole(env, "LIMIT_USER_DAILY_SECONDS", 0, high=MAX_WHOLE, problems=problems)
    budget = number(
        env, "LIMIT_GUILD_MONTHLY_BUDGET", 0.0, low=0.0, high=MAX_MONEY, problems=problems
    )
    cooldown = whole(env, "LIMIT_COOLDOWN_SECONDS", 0, high=MAX_WHOLE, problems=problems)
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
        limit_user_daily_seconds=daily,
        limit_guild_monthly_budget=budget,
        limit_cooldown_seconds=cooldown,
        log_level=log_level,
    )
