"""The doctor's checks that talk to a service: the Slack token's scopes (``auth.test``), a
PostgreSQL database, and with ``--online`` DashScope and Discord. Every call is read-only.

No Slack library here (only ``slackapp/`` imports them): ``auth.test`` is one POST whose answer
carries the token's scopes in the ``X-OAuth-Scopes`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
import psycopg

from bot.doctor_local import Finding
from bot.settings import SLACK_API_URL, dashscope_from_env
from core.domain.errors import ConfigError

#: what the Slack front-end calls (README, "Slack setup": the bot scope table)
SLACK_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "chat:write.public",
        "files:read",
        "files:write",
        "users:read",
        "channels:join",
        "im:write",
        "channels:read",
        "groups:read",
        "channels:history",
        "groups:history",
        "im:history",
    }
)
DISCORD_API = "https://discord.com/api/v10"
TIMEOUT = aiohttp.ClientTimeout(total=15)


async def slack_scope_findings(env: Mapping[str, str]) -> list[Finding]:
    token = (env.get("SLACK_BOT_TOKEN") or "").strip()
    if not token.startswith("xoxb-"):
        return []  # not set up, or the settings check names it
    url = (env.get("SLACK_API_URL") or "").strip() or SLACK_API_URL
    url = url if url.endswith("/") else url + "/"
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.post(url + "auth.test", headers={"Authorization": f"Bearer {token}"}) as r,
        ):
            body = await r.json(content_type=None)
            granted = {s.strip() for s in r.headers.get("X-OAuth-Scopes", "").split(",")}
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return [Finding("SLACK_API_URL", f"Slack did not answer auth.test ({_reason(exc)}).")]
    if not isinstance(body, dict) or not body.get("ok"):
        error = body.get("error") if isinstance(body, dict) else "no answer"
        return [
            Finding(
                "SLACK_BOT_TOKEN",
                f"Slack refused it ({error}); copy the Bot User OAuth Token again "
                "(OAuth & Permissions).",
            )
        ]
    missing = sorted(SLACK_SCOPES - granted)
    if missing:
        return [
            Finding(
                "SLACK_BOT_TOKEN",
                f"lacks the scopes {', '.join(missing)}; add them under OAuth & Permissions "
                "and reinstall the app to the workspace.",
            )
        ]
    return []


def postgres_findings(url: str) -> list[Finding]:
    """Reachable, migrated and writable (never the URL in a message: it may hold a password)."""
    from storage._pgmigrate import migrations

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT to_regclass('schema_migrations') IS NOT NULL, "
                "current_setting('transaction_read_only')"
            ).fetchone()
            has_table, read_only = row if row is not None else (False, "on")
            version = 0
            if has_table:
                got = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
                version = int((got.fetchone() or (0,))[0])
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        password = urlsplit(url).password
        if password:
            reason = reason.replace(password, "[redacted]")
        return [Finding("DATABASE_URL", f"PostgreSQL does not answer ({reason}); check it.")]
    found: list[Finding] = []
    if read_only == "on":
        found.append(
            Finding("DATABASE_URL", "the database is read-only (a standby?); use the primary.")
        )
    latest = len(migrations())
    if version != latest:
        found.append(
            Finding(
                "DATABASE_URL",
                f"the schema is at version {version} of {latest}; the next `animate-bot run` "
                "migrates it" + (" (a newer release made it)." if version > latest else "."),
            )
        )
    return found


async def online_findings(env: Mapping[str, str]) -> list[Finding]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        return await dashscope_findings(http, env) + await discord_findings(http, env)


async def dashscope_findings(http: aiohttp.ClientSession, env: Mapping[str, str]) -> list[Finding]:
    """List one task: read-only, and refused with 401 for a key of another region."""
    try:
        settings = dashscope_from_env(env)
        base = settings.base_url
    except ConfigError:
        return []  # the settings check names it
    if settings.api_key is None:
        return []
    url = f"{base}/tasks?page_no=1&page_size=1"
    try:
        async with http.get(url, headers={"Authorization": f"Bearer {settings.api_key}"}) as r:
            status = r.status
            body = await r.json(content_type=None) if status != 200 else {}
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return [Finding("DASHSCOPE_BASE_URL", f"DashScope did not answer ({_reason(exc)}).")]
    if status == 200:
        return []
    code = body.get("code") if isinstance(body, dict) else None
    if status in (401, 403):
        return [
            Finding(
                "DASHSCOPE_API_KEY",
                f"DashScope refused it ({code or status}) at {urlsplit(base).hostname}; use a "
                f"key of {settings.region.value} (keys belong to one region) or fix "
                "DASHSCOPE_REGION.",
            )
        ]
    return [Finding("DASHSCOPE_BASE_URL", f"DashScope answered {status} ({code}); check it.")]


async def discord_findings(http: aiohttp.ClientSession, env: Mapping[str, str]) -> list[Finding]:
    """Who the token is (``GET /users/@me``): read-only, 401 for a wrong token."""
    token = (env.get("DISCORD_TOKEN") or "").strip()
    if not token:
        return []
    base = (env.get("DISCORD_API_BASE") or DISCORD_API).rstrip("/")
    try:
        async with http.get(base + "/users/@me", headers={"Authorization": f"Bot {token}"}) as r:
            status = r.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return [Finding("DISCORD_TOKEN", f"Discord did not answer ({_reason(exc)}).")]
    if status == 200:
        return []
    if status == 401:
        return [
            Finding(
                "DISCORD_TOKEN",
                "Discord refused it (401); reset the token in the Developer Portal (Bot → Reset "
                "Token) and set the new one.",
            )
        ]
    return [Finding("DISCORD_TOKEN", f"Discord answered {status}; try again later.")]


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
