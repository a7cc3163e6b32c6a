"""``animate-bot doctor [--online]``: what is wrong with this installation, one line per finding.

Each finding names the setting (``DASHSCOPE_REGION: …``) and says what to do. Offline: the
checks of this machine (``bot.doctor_local``), the database (SQLite or PostgreSQL), and the
Slack token's scopes when Slack is set up. ``--online`` adds read-only calls to DashScope and
Discord with the credentials (``bot.doctor_remote``). Exit 0 when nothing was found, else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv import find_dotenv, load_dotenv

from bot.doctor_local import (
    Finding,
    media_findings,
    port_findings,
    region_findings,
    settings_findings,
    sqlite_findings,
    token_findings,
)
from bot.doctor_remote import online_findings, postgres_findings, slack_scope_findings


def database_findings(env: Mapping[str, str]) -> list[Finding]:
    url = (env.get("DATABASE_URL") or "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        return postgres_findings(url)
    return sqlite_findings(Path(env.get("DATABASE_PATH") or "data/animate.db").expanduser())


async def findings(env: Mapping[str, str], *, online: bool = False) -> list[Finding]:
    """Every finding, in the order a newcomer would fix them."""
    found = settings_findings(env)
    for check in (token_findings, region_findings, database_findings, media_findings):
        found += check(env)
    found += await slack_scope_findings(env)
    found += port_findings(env)
    if online:
        found += await online_findings(env)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="animate-bot doctor",
        description="Check the settings (environment / .env) and what they point at.",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="also call DashScope and Discord (read-only) to verify the credentials",
    )
    args = parser.parse_args(argv)
    load_dotenv(find_dotenv(usecwd=True))  # what `animate-bot run` would read
    env = dict(os.environ)
    found = asyncio.run(findings(env, online=args.online))
    for finding in found:
        print(finding)  # noqa: T201 - the findings are the command's output
    if not found:
        print("animate-bot doctor: no problems found")  # noqa: T201 - same
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
