"""Every setting the bot reads, with its default and what it means: the README's settings table.

``python -m bot.docs`` writes the table into README.md; ``tests/bot/test_settings_doc.py``
checks that this list, the names and defaults ``bot/settings.py`` reads (found in its source) and
``.env.example`` agree, so a new setting cannot go undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SettingDoc:
    name: str
    #: "" when unset by default
    default: str
    meaning: str


SETTINGS: tuple[SettingDoc, ...] = (
    # ---- front-ends
    SettingDoc(
        "DISCORD_TOKEN",
        "",
        "the Discord bot token (Developer Portal → Bot → Reset Token); Discord, Slack or both "
        "must be set up",
    ),
    SettingDoc("SLACK_BOT_TOKEN", "", "the Slack bot token (`xoxb-…`); with `SLACK_APP_TOKEN`"),
    SettingDoc(
        "SLACK_APP_TOKEN",
        "",
        "the Slack app-level token (`xapp-…`, scope `connections:write`) for Socket Mode",
    ),
    SettingDoc(
        "SLACK_API_URL",
        "https://slack.com/api/",
        "Slack's Web API; only for a local stand-in",
    ),
    SettingDoc("DEV_GUILD_ID", "", "a guild where commands appear at once while developing"),
    SettingDoc(
        "DISCORD_API_BASE",
        "",
        "development only: a local Discord stand-in's REST base, e.g. "
        "`http://127.0.0.1:8080/api/v10`",
    ),
    SettingDoc(
        "DISCORD_GATEWAY_URL", "", "development only: the stand-in's gateway, with the above"
    ),
    # ---- DashScope
    SettingDoc(
        "DASHSCOPE_API_KEY", "", "the Model Studio API key (required); keys belong to one region"
    ),
    SettingDoc(
        "DASHSCOPE_REGION",
        "cn-beijing",
        "`cn-beijing`, `ap-southeast-1`, `us-east-1`, `eu-central-1`, `ap-northeast-1` or "
        "`cn-hongkong`: the region of the key, the endpoint and the models",
    ),
    SettingDoc(
        "DASHSCOPE_WORKSPACE_ID",
        "",
        "the workspace id (the console's API Host): calls "
        "`https://{id}.{region}.maas.aliyuncs.com/api/v1`; required in Frankfurt, Tokyo and "
        "Hong Kong",
    ),
    SettingDoc(
        "DASHSCOPE_BASE_URL", "", "another endpoint, e.g. the bundled emulator (overrides both)"
    ),
    SettingDoc("DASHSCOPE_HTTP_BASE_URL", "", "the official SDK's name for `DASHSCOPE_BASE_URL`"),
    SettingDoc(
        "PRICE_OVERRIDES",
        "",
        "a TOML file of prices per output second (model → resolution → price) for prices "
        "Alibaba has not published",
    ),
    # ---- data
    SettingDoc(
        "DATABASE_PATH",
        "data/animate.db",
        "the SQLite file; the heartbeat and the command-sync state live next to it",
    ),
    SettingDoc(
        "DATABASE_URL",
        "",
        "a PostgreSQL URL instead of SQLite, shared by several processes (see Scaling out)",
    ),
    SettingDoc(
        "MEDIA_DIR",
        "",
        "where inputs and videos go (default: `media/` next to the database); shared by every "
        "process with PostgreSQL",
    ),
    # ---- process roles (PostgreSQL)
    SettingDoc(
        "ENGINE",
        "on",
        "`off` makes `animate-bot run` a front-end only, whose jobs `animate-bot worker` "
        "processes run (needs `DATABASE_URL`)",
    ),
    SettingDoc(
        "DISCORD_SHARD_COUNT",
        "",
        "Discord sharding: the total number of shards over all processes (1–10000)",
    ),
    SettingDoc(
        "DISCORD_SHARD_IDS",
        "",
        "the comma-separated shard ids this process runs (all when unset; needs the count)",
    ),
    SettingDoc("MEDIA_RETENTION_DAYS", "7", "days a delivered video is kept on disk (0–36500)"),
    # ---- limits
    SettingDoc(
        "LIMIT_USER_ACTIVE_JOBS",
        "3",
        "queued + running videos one user may have at once (0 = unlimited)",
    ),
    SettingDoc(
        "LIMIT_USER_DAILY_SECONDS",
        "0",
        "video-seconds one user may make per UTC day, all servers together (0 = unlimited)",
    ),
    SettingDoc(
        "LIMIT_GUILD_MONTHLY_BUDGET",
        "0",
        "money one server may spend per UTC month, in the region's currency (0 = unlimited)",
    ),
    SettingDoc(
        "LIMIT_COOLDOWN_SECONDS", "0", "seconds a user waits between two requests (0 = none)"
    ),
    # ---- operations
    SettingDoc("LOG_LEVEL", "INFO", "`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`"),
    SettingDoc(
        "LOG_FORMAT",
        "text",
        "`text` (one line per event) or `json` (one JSON object per line); each names its job",
    ),
    SettingDoc(
        "HTTP_PORT",
        "",
        "turns on the HTTP server: `/healthz`, `/readyz`, `/metrics`, and with `EVENTS_TOKEN` "
        "the completion push",
    ),
    SettingDoc(
        "HTTP_HOST", "127.0.0.1", "the address the HTTP server listens on (loopback by default)"
    ),
    SettingDoc(
        "EVENTS_TOKEN",
        "",
        "with `HTTP_PORT`: accept DashScope task-finish events at `POST /dashscope/events` "
        "(at least 16 characters)",
    ),
    SettingDoc(
        "HEALTH_MAX_AGE",
        "180",
        "seconds without a good engine pass before `animate-bot health` and `/healthz` fail",
    ),
    SettingDoc(
        "STOP_GRACE_SECONDS",
        "20",
        "on SIGTERM, seconds the work in flight gets to finish (0–3600)",
    ),
)


def table() -> str:
    """The Markdown table of every setting."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for doc in SETTINGS:
        default = f"`{doc.default}`" if doc.default else "unset"
        rows.append(f"| `{doc.name}` | {default} | {doc.meaning} |")
    return "\n".join(rows)
