"""``animate-bot doctor``: one finding per broken setting, naming it; none for a good setup.

Real files, a real SQLite database, real sockets; Slack's ``auth.test`` against the fake Slack,
``--online`` against the DashScope emulator and the fake Discord on loopback.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import doctor_local
from bot.__main__ import main as animate_bot
from bot.doctor import findings
from bot.doctor_local import Finding
from core.domain.catalog import DEFAULT_MODEL, find_model
from core.domain.regions import BASE_URLS, Region
from emulator import Emulator, EmulatorConfig
from playground.fakediscord import FakeDiscord
from storage import SqliteJobStore
from tests.fakeslack import BOT_SCOPES, FakeSlack

DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
KEY = "sk-0123456789abcdef0123456789abcdef"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A good setup: a Discord token and a key of the right shapes, the data in tmp_path."""
    return {
        "DISCORD_TOKEN": DISCORD,
        "DASHSCOPE_API_KEY": KEY,
        "DATABASE_PATH": str(tmp_path / "data" / "animate.db"),
    }


def settings_named(found: list[Finding]) -> list[str]:
    return [f.setting for f in found]


async def test_a_good_setup_has_no_findings(env: dict[str, str], tmp_path: Path) -> None:
    assert await findings(env) == []
    async with SqliteJobStore.open(Path(env["DATABASE_PATH"])):  # created and migrated
        pass
    assert await findings(env) == []


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DISCORD_TOKEN", "Bot " + DISCORD, "without 'Bot '"),
        ("DISCORD_TOKEN", "123456789012345678", "application id"),
        ("DISCORD_TOKEN", "abcdefabcdefabcdefabcdefabcdefab", "not the client secret"),
        ("DASHSCOPE_API_KEY", "my-key", "Model Studio"),
        ("DASHSCOPE_API_KEY", "", "missing"),
        ("DASHSCOPE_REGION", "mars-1", "not a known region"),
        ("DASHSCOPE_WORKSPACE_ID", "not a workspace!", "not a workspace id"),
        ("LOG_LEVEL", "LOUD", "is not one of"),
        ("LOG_FORMAT", "xml", "is not one of"),
        ("STOP_GRACE_SECONDS", "-1", "out of range"),
        ("HTTP_PORT", "http", "port number"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "bot token"),
    ],
)
async def test_each_broken_setting_is_named(
    env: dict[str, str], name: str, value: str, says: str
) -> None:
    env[name] = value
    found = await findings(env)
    assert name in settings_named(found), found
    assert says in str(next(f for f in found if f.setting == name))


async def test_a_base_url_of_another_region_is_named_against_the_region(
    env: dict[str, str],
) -> None:
    env["DASHSCOPE_REGION"] = Region.SINGAPORE.value
    env["DASHSCOPE_BASE_URL"] = BASE_URLS[Region.BEIJING]
    [finding] = await findings(env)
    assert finding.setting == "DASHSCOPE_REGION"
    assert "cn-beijing" in finding.problem and "ap-southeast-1" in finding.problem
    env["DASHSCOPE_BASE_URL"] = BASE_URLS[Region.SINGAPORE]
    assert await findings(env) == []


async def test_a_region_without_the_default_model_is_named(env: dict[str, str]) -> None:
    default = find_model(DEFAULT_MODEL)
    assert default is not None
    region = next(r for r in Region if not default.available_in(r))
    env["DASHSCOPE_REGION"] = region.value
    env["DASHSCOPE_WORKSPACE_ID"] = "ws-test"
    found = await findings(env)
    assert any(f.setting == "DASHSCOPE_REGION" and DEFAULT_MODEL in f.problem for f in found)


def test_the_database_unusable_outdated_or_newer(env: dict[str, str]) -> None:
    db = Path(env["DATABASE_PATH"])
    db.parent.mkdir(parents=True)
    db.write_bytes(b"not a database" * 512)
    [finding] = asyncio.run(findings(env))
    assert finding.setting == "DATABASE_PATH" and "cannot be used" in finding.problem
    db.unlink()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 1")
    [finding] = asyncio.run(findings(env))
    assert "schema version 1 of" in finding.problem and "migrates it" in finding.problem
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    [finding] = asyncio.run(findings(env))
    assert "newer than this release" in finding.problem


async def test_a_locked_database_is_not_writable(env: dict[str, str]) -> None:
    db = Path(env["DATABASE_PATH"])
    async with SqliteJobStore.open(db):
        pass
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        [finding] = await findings(env)
        assert finding.setting == "DATABASE_PATH" and "locked" in finding.problem
    finally:
        holder.close()


async def test_media_dir_not_writable_or_short_of_space(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    env["MEDIA_DIR"] = str(blocker / "media")  # under a file: nothing can be created there
    [finding] = await findings(env)
    assert finding.setting == "MEDIA_DIR" and "not writable" in finding.problem
    env["MEDIA_DIR"] = str(tmp_path / "media")
    monkeypatch.setattr(doctor_local, "MIN_FREE_BYTES", 1 << 62)  # more than any disk has
    [finding] = await findings(env)
    assert finding.setting == "MEDIA_DIR" and "free" in finding.problem


async def test_a_port_in_use_is_named(env: dict[str, str]) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        env["HTTP_PORT"] = str(held.getsockname()[1])
        [finding] = await findings(env)
    assert finding.setting == "HTTP_PORT" and "cannot listen" in finding.problem
    assert await findings(env) == [], "free again once the holder closed it"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_scopes=BOT_SCOPES - {"files:write", "users:read"}) as fake:
        yield fake


async def test_slack_scopes_are_checked_with_auth_test(
    env: dict[str, str], slack: FakeSlack
) -> None:
    env |= {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
    }
    [finding] = await findings(env)
    assert finding.setting == "SLACK_BOT_TOKEN"
    assert "files:write, users:read" in finding.problem and "reinstall" in finding.problem
    slack.bot_scopes |= {"files:write", "users:read"}
    assert await findings(env) == []
    env["SLACK_BOT_TOKEN"] = "xoxb-0-0-not-the-token"
    [finding] = await findings(env)
    assert finding.setting == "SLACK_BOT_TOKEN" and "invalid_auth" in finding.problem


async def test_online_checks_the_key_and_the_token(env: dict[str, str]) -> None:
    async with Emulator(EmulatorConfig(api_key=KEY)) as emu, FakeDiscord() as discord:
        env |= {
            "DASHSCOPE_BASE_URL": emu.base_url,
            "DISCORD_API_BASE": discord.api_base,
        }
        env["DISCORD_TOKEN"] = discord.token = DISCORD
        assert await findings(env, online=True) == []
        assert await findings(env) == [], "offline: nothing is called"
        env["DASHSCOPE_API_KEY"] = "sk-of-another-region-0123456789"
        discord.token = DISCORD.replace("abc", "xyz")
        found = await findings(env, online=True)
    assert settings_named(found) == ["DASHSCOPE_API_KEY", "DISCORD_TOKEN"]
    assert "InvalidApiKey" in found[0].problem and "Reset Token" in found[1].problem
    assert KEY not in str(found) and DISCORD not in str(found), "secrets are never repeated"


def test_the_command_exits_1_with_one_line_per_finding(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("DASHSCOPE_REGION", "DASHSCOPE_BASE_URL", "HTTP_PORT", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert animate_bot(["doctor"]) == 0
    assert capsys.readouterr().out == "animate-bot doctor: no problems found\n"
    monkeypatch.setenv("DASHSCOPE_REGION", "mars-1")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    assert animate_bot(["doctor"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["DASHSCOPE_REGION", "LOG_LEVEL"]
