"""The composition root: one clear config error, a real run against the fakes, SIGTERM."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from bot import health
from bot.builder import build
from bot.log import RedactSecrets
from bot.runner import http_server, main, run
from bot.settings import DashScopeSettings, Settings, from_env
from bot.webhooks import PATH
from tests.e2e.harness import API_KEY, World
from tests.e2e.slack_world import SlackWorld

VARS = ("DISCORD_TOKEN", "DASHSCOPE_API_KEY", "DASHSCOPE_BASE_URL", "DASHSCOPE_HTTP_BASE_URL")


def test_missing_variables_exit_2_listing_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN" in err and "DASHSCOPE_API_KEY" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_dotenv_of_the_working_directory_and_ranges_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the .env is looked up in the working directory (as documented), not next to bot/runner.py
    monkeypatch.chdir(tmp_path)
    for name in (*VARS, "MEDIA_RETENTION_DAYS"):
        monkeypatch.setenv(name, "")  # recorded, so what load_dotenv sets is undone after
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=t\nDASHSCOPE_API_KEY=k\nMEDIA_RETENTION_DAYS=nan\n", encoding="utf-8"
    )
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "MEDIA_RETENTION_DAYS='nan'" in err and "DISCORD_TOKEN" not in err
    assert err.count("\n") == 1


def test_redaction_filter_scrubs_tokens_from_messages_and_tracebacks() -> None:
    secret = "MTIz.fake-token-value"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token=%s", (secret,), None)
    try:
        raise RuntimeError(f"login with {secret} failed")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactSecrets([secret]).filter(record)
    assert secret not in record.getMessage() and "[redacted]" in record.getMessage()
    assert record.exc_text is not None and secret not in record.exc_text


async def test_run_serves_until_sigterm_and_closes_cleanly(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "DISCORD_TOKEN": world.fake.token,
        "DASHSCOPE_API_KEY": API_KEY,
        "DASHSCOPE_BASE_URL": world.emu.base_url,
        "DATABASE_PATH": str(tmp_path / "run" / "animate.db"),
    }
    settings = from_env(env)
    loop_started = asyncio.Event()

    class Started(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("worker running"):
                loop_started.set()

    handler = Started()
    logging.getLogger("core.engine.worker").addHandler(handler)
    logging.getLogger("core.engine.worker").setLevel(logging.INFO)
    try:
        served = asyncio.create_task(run(settings))
        await asyncio.wait_for(loop_started.wait(), 15)
    finally:
        logging.getLogger("core.engine.worker").removeHandler(handler)
    assert health.is_fresh(settings.database_path, 60.0), "the first pass wrote the heartbeat"
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(served, 10)
    assert served.exception() is None
    assert world.fake.synced["global"], "first start synced the commands"
    assert (tmp_path / "run" / "animate.db").exists()


async def test_a_slack_only_process_serves_until_sigterm(
    slack_world: SlackWorld, tmp_path: Path
) -> None:
    slack = slack_world.slack
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
        "DASHSCOPE_API_KEY": API_KEY,
        "DASHSCOPE_BASE_URL": slack_world.emu.base_url,
        "DATABASE_PATH": str(tmp_path / "run" / "animate.db"),
    }
    settings = from_env(env)
    assert settings.discord_token is None
    served = asyncio.create_task(run(settings))
    await slack.wait_for(lambda: slack.socket.live, within=15)
    # the front-end answers: /animate opens the modal in the running process
    await slack.wait_acked(await slack.command(slack_world.alice, slack_world.general))
    await slack.wait_for(lambda: slack.open_view(slack_world.alice))
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(served, 10)
    assert served.exception() is None
    assert not slack.socket.live, "the Socket Mode connection is closed on the way out"


async def test_a_refused_slack_token_exits_2_with_one_line(
    slack_world: SlackWorld,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-0-0-not-a-real-token",  # the fake answers invalid_auth
        "SLACK_APP_TOKEN": "xapp-0-A0-0-not-real",
        "SLACK_API_URL": slack_world.slack.api_url,
        "DASHSCOPE_API_KEY": API_KEY,
        "DATABASE_PATH": str(tmp_path / "db" / "animate.db"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    # main() runs its own event loop: off this test's loop, which serves the fake Slack
    assert await asyncio.to_thread(main, []) == 2
    err = capsys.readouterr().err
    # the log of the start-up, then one line that says what is wrong
    assert err.splitlines()[-1] == "animate-bot: Slack refused SLACK_BOT_TOKEN (invalid_auth)."
    assert "Traceback" not in err
    assert "not-a-real-token" not in err


async def test_the_http_server_runs_only_with_a_port_and_serves_events_with_a_token(
    tmp_path: Path,
) -> None:
    base = Settings(
        dashscope=DashScopeSettings(api_key="sk-x", base_url_override="http://127.0.0.1:9/v1"),
        database_path=tmp_path / "animate.db",
        media_dir=tmp_path / "media",
    )
    async with build(base) as rt, http_server(base, rt) as off:
        assert off is None
    plain = dataclasses.replace(base, http_port=0)
    token = dataclasses.replace(plain, events_token="0123456789abcdef0123")
    async with aiohttp.ClientSession() as http:
        for settings, status in ((plain, 404), (token, 401)):
            async with build(settings) as rt, http_server(settings, rt) as web:
                assert web is not None and web.host == "127.0.0.1" and web.port > 0
                async with http.post(web.url + PATH, data=b"{}") as r:
                    assert r.status == status
