"""Typed settings, read once from the environment (after ``load_dotenv()``) in ``main()``.

Nothing below ``bot/`` reads the environment; everything is handed in from here.
Secrets are ``repr=False`` so they never show up in logs or tracebacks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.catalog import BASE_URLS, Region
from core.errors import ConfigError


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
    log_level: str = "INFO"


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
    dev_guild: int | None = None
    raw_guild = (env.get("DEV_GUILD_ID") or "").strip()
    if raw_guild:
        if raw_guild.isdigit():
            dev_guild = int(raw_guild)
        else:
            problems.append(f"DEV_GUILD_ID={raw_guild!r} is not a numeric guild id")
    retention = 7.0
    raw_retention = (env.get("MEDIA_RETENTION_DAYS") or "").strip()
    if raw_retention:
        try:
            retention = float(raw_retention)
        except ValueError:
            problems.append(f"MEDIA_RETENTION_DAYS={raw_retention!r} is not a number")
    active_cap = 3
    raw_cap = (env.get("LIMIT_USER_ACTIVE_JOBS") or "").strip()
    if raw_cap:
        if raw_cap.isdigit():
            active_cap = int(raw_cap)
        else:
            problems.append(
                f"LIMIT_USER_ACTIVE_JOBS={raw_cap!r} is not a whole number (0 = unlimited)"
            )
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
        log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
    )
