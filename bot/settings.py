"""Typed settings, read once from the environment (after ``load_dotenv()``) in ``main()``.

Nothing below ``bot/`` reads the environment; everything is handed in from here.
Secrets are ``repr=False`` so they never show up in logs or tracebacks.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.domain.errors import ConfigError
from core.domain.guild_settings import MAX_MONEY, MAX_WHOLE, OperatorDefaults
from core.domain.pricing import PriceOverrides
from core.domain.regions import BASE_URLS, REGIONS, Region, valid_workspace_id

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
    #: the workspace whose host to call (``DASHSCOPE_WORKSPACE_ID``, reference §1): required in
    #: regions without a shared domain (Frankfurt, Tokyo, Hong Kong), recommended everywhere
    workspace_id: str | None = None

    @property
    def base_url(self) -> str:
        """The override, else the workspace host, else the region's shared domain."""
        url = self.base_url_override or REGIONS[self.region].base_url(self.workspace_id)
        if url is None:
            raise ConfigError(_needs_workspace(self.region) + ".")
        return url.rstrip("/")

    @property
    def is_official_host(self) -> bool:
        return (
            self.base_url_override is None
            or self.base_url_override.rstrip("/") in BASE_URLS.values()
        )


def _needs_workspace(region: Region) -> str:
    return (
        f"DASHSCOPE_REGION={region.value} has no shared DashScope domain: set "
        "DASHSCOPE_WORKSPACE_ID (the workspace's API Host in the Model Studio console) or "
        "DASHSCOPE_BASE_URL"
    )


#: Slack's Web API; ``SLACK_API_URL`` replaces it (a local stand-in), as DISCORD_API_BASE does
SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """The Slack front-end: a bot token (``xoxb-``, Web API) and an app-level token (``xapp-``,
    ``connections:write``, Socket Mode); ``api_url`` ends with ``/`` (slack_sdk joins onto it)."""

    bot_token: str = field(repr=False)
    app_token: str = field(repr=False)
    api_url: str = SLACK_API_URL


@dataclass(frozen=True, slots=True)
class Settings:
    dashscope: DashScopeSettings
    discord_token: str | None = field(repr=False, default=None)
    #: None: no Slack front-end in this process
    slack: SlackSettings | None = None
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
    #: video-seconds one user may make per UTC day, everywhere (0 = unlimited)
    limit_user_daily_seconds: int = 0
    #: money one server may spend per UTC month, in the region's currency (0 = unlimited)
    limit_guild_monthly_budget: float = 0.0
    #: seconds a user waits between two requests (0 = none)
    limit_cooldown_seconds: int = 0
    log_level: str = "INFO"
    #: the operator's prices (``PRICE_OVERRIDES``): model -> resolution -> price per second
    price_overrides: PriceOverrides = field(default_factory=PriceOverrides)

    @property
    def operator_limits(self) -> OperatorDefaults:
        """The ``LIMIT_*`` defaults every server starts from (its admins may change them)."""
        return OperatorDefaults(
            active_jobs=self.limit_user_active_jobs,
            daily_seconds=self.limit_user_daily_seconds,
            cooldown_seconds=self.limit_cooldown_seconds,
            monthly_budget=self.limit_guild_monthly_budget,
        )

    #: the bot's HTTP server (``bot.web``): off without a port; loopback unless told otherwise
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    #: accepts DashScope task-finish events at POST /dashscope/events when set (``bot.webhooks``)
    events_token: str | None = field(repr=False, default=None)
    #: operations (``_ops``): how stale the worker's last good pass may be before the process
    #: is unhealthy, how long SIGTERM waits for work in flight, and the log line format
    health_max_age: float = 180.0
    stop_grace_seconds: float = 20.0
    log_format: str = "text"

    @property
    def state_dir(self) -> Path:
        """Where this process keeps its own files (heartbeat, command-sync state): next to the
        SQLite file, which with PostgreSQL only names this directory."""
        return self.database_path.parent

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Everything the logs must never show."""
        password = urlsplit(self.database_url).password if self.database_url else None
        slack = self.slack
        return (
            self.discord_token,
            self.dashscope.api_key,
            password,
            self.events_token,
            slack.bot_token if slack else None,
            slack.app_token if slack else None,
        )


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
    """The DashScope settings; one ``ConfigError`` naming every problem."""
    problems: list[str] = []
    settings = _dashscope(os.environ if env is None else env, problems)
    if problems:
        raise ConfigError("; ".join(problems) + ".")
    return settings


def _dashscope(env: Mapping[str, str], problems: list[str]) -> DashScopeSettings:
    override = env.get("DASHSCOPE_BASE_URL") or env.get("DASHSCOPE_HTTP_BASE_URL") or None
    try:
        region = _region(env.get("DASHSCOPE_REGION"))
    except ConfigError as exc:
        problems.append(exc.message.rstrip("."))
        region = Region.BEIJING
    workspace = (env.get("DASHSCOPE_WORKSPACE_ID") or "").strip() or None
    if workspace is not None and not valid_workspace_id(workspace):
        problems.append(f"DASHSCOPE_WORKSPACE_ID={workspace!r} is not a workspace id")
        workspace = None
    elif override is None and workspace is None and REGIONS[region].shared_url is None:
        problems.append(_needs_workspace(region))
    return DashScopeSettings(
        api_key=(env.get("DASHSCOPE_API_KEY") or "").strip() or None,
        region=region,
        base_url_override=override,
        workspace_id=workspace,
    )


def price_overrides_from_env(
    env: Mapping[str, str] | None = None, problems: list[str] | None = None
) -> PriceOverrides:
    """``PRICE_OVERRIDES``: the path of a TOML file of model -> resolution -> price per output
    second, in the region's currency (``core.domain.pricing``). A problem is a line in
    ``problems``, or a ``ConfigError`` when none is given."""
    env = os.environ if env is None else env
    raw = (env.get("PRICE_OVERRIDES") or "").strip()
    if not raw:
        return PriceOverrides()
    path = Path(raw).expanduser()
    try:
        return PriceOverrides.parse(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        problem = f"PRICE_OVERRIDES={raw!r} cannot be read ({exc.strerror or exc})"
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problem = f"PRICE_OVERRIDES={raw!r} is not valid TOML ({exc})"
    except ValueError as exc:
        problem = f"PRICE_OVERRIDES={raw!r}: {exc}"
    if problems is None:
        raise ConfigError(problem + ".")
    problems.append(problem)
    return PriceOverrides()


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


#: a shorter shared secret is too easy to guess for an endpoint on the public internet
MIN_TOKEN = 16


def _http(env: Mapping[str, str], problems: list[str]) -> tuple[int | None, str, str | None]:
    """``HTTP_PORT``, ``HTTP_HOST`` and ``EVENTS_TOKEN``, checked together."""
    raw = (env.get("HTTP_PORT") or "").strip()
    port: int | None = None
    if raw:
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 65535:
            port = int(raw)
        else:
            problems.append(f"HTTP_PORT={raw!r} is not a port number from 1 to 65535")
    host = (env.get("HTTP_HOST") or "127.0.0.1").strip()
    if any(c.isspace() for c in host) or "/" in host:
        problems.append(f"HTTP_HOST={host!r} is not a host name or address to listen on")
    token = (env.get("EVENTS_TOKEN") or "").strip() or None
    if token is not None:
        if len(token) < MIN_TOKEN or not token.isascii() or not token.isprintable():
            problems.append(
                f"EVENTS_TOKEN must be at least {MIN_TOKEN} printable ASCII characters "
                "(e.g. the output of `openssl rand -hex 24`)"
            )
        if not raw:
            problems.append(
                "EVENTS_TOKEN is set but HTTP_PORT is not (events need the HTTP server)"
            )
    return port, host, token


def _slack(env: Mapping[str, str], problems: list[str]) -> SlackSettings | None:
    bot = (env.get("SLACK_BOT_TOKEN") or "").strip()
    app = (env.get("SLACK_APP_TOKEN") or "").strip()
    raw_url = (env.get("SLACK_API_URL") or "").strip()
    if not bot and not app:
        if raw_url:
            problems.append("SLACK_API_URL is set but SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not")
        return None
    if not bot:
        problems.append(
            "SLACK_BOT_TOKEN is missing (xoxb-…, OAuth & Permissions; needed with SLACK_APP_TOKEN)"
        )
    elif not bot.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN is not a bot token (it starts with xoxb-)")
    if not app:
        problems.append(
            "SLACK_APP_TOKEN is missing (xapp-…, Basic Information → App-Level "
            "Tokens, scope connections:write; needed with SLACK_BOT_TOKEN)"
        )
    elif not app.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN is not an app-level token (it starts with xapp-)")
    url = raw_url or SLACK_API_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"SLACK_API_URL={raw_url!r} is not an http(s) URL")
    return SlackSettings(bot, app, url if url.endswith("/") else url + "/")


LOG_FORMATS = ("text", "json")


def _ops(env: Mapping[str, str], problems: list[str]) -> tuple[float, float, str]:
    """``HEALTH_MAX_AGE``, ``STOP_GRACE_SECONDS`` and ``LOG_FORMAT``."""
    max_age = number(env, "HEALTH_MAX_AGE", 180.0, low=1.0, high=7 * 86400.0, problems=problems)
    grace = number(env, "STOP_GRACE_SECONDS", 20.0, low=0.0, high=3600.0, problems=problems)
    fmt = (env.get("LOG_FORMAT") or "text").strip().lower()
    if fmt not in LOG_FORMATS:
        problems.append(f"LOG_FORMAT={fmt!r} is not one of {', '.join(LOG_FORMATS)}")
        fmt = "text"
    return max_age, grace, fmt


def from_env(env: Mapping[str, str] | None = None, *, need_frontend: bool = True) -> Settings:
    """Build settings; one ``ConfigError`` names every missing or malformed variable.

    ``need_frontend``: at least one chat front-end (Discord, Slack, or both) must be set up.
    """
    env = os.environ if env is None else env
    problems: list[str] = []
    token = (env.get("DISCORD_TOKEN") or "").strip() or None
    slack = _slack(env, problems)
    if need_frontend and token is None and slack is None:
        problems.append(
            "no chat front-end is set up: DISCORD_TOKEN is missing (the bot token from the "
            "Developer Portal) and so are SLACK_BOT_TOKEN + SLACK_APP_TOKEN; set either or both"
        )
    dashscope = _dashscope(env, problems)
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
    overrides = price_overrides_from_env(env, problems)
    daily = whole(env, "LIMIT_USER_DAILY_SECONDS", 0, high=MAX_WHOLE, problems=problems)
    budget = number(
        env, "LIMIT_GUILD_MONTHLY_BUDGET", 0.0, low=0.0, high=MAX_MONEY, problems=problems
    )
    cooldown = whole(env, "LIMIT_COOLDOWN_SECONDS", 0, high=MAX_WHOLE, problems=problems)
    http_port, http_host, events_token = _http(env, problems)
    health_max_age, stop_grace, log_format = _ops(env, problems)
    if problems:
        raise ConfigError("Configuration problem: " + "; ".join(problems) + ".")
    db = Path(env.get("DATABASE_PATH") or "data/animate.db").expanduser()
    media = Path(env.get("MEDIA_DIR") or str(db.parent / "media")).expanduser()
    return Settings(
        dashscope=dashscope,
        discord_token=token,
        slack=slack,
        database_path=db,
        media_dir=media,
        dev_guild_id=dev_guild,
        media_retention_days=retention,
        limit_user_active_jobs=active_cap,
        limit_user_daily_seconds=daily,
        limit_guild_monthly_budget=budget,
        limit_cooldown_seconds=cooldown,
        log_level=log_level,
        database_url=db_url,
        engine=engine,
        shard_count=shard_count,
        shard_ids=shard_ids,
        price_overrides=overrides,
        http_port=http_port,
        http_host=http_host,
        events_token=events_token,
        health_max_age=health_max_age,
        stop_grace_seconds=stop_grace,
        log_format=log_format,
    )
