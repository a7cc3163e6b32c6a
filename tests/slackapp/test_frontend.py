"""Starting and stopping the Slack front-end against the fake Slack."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from bot.builder import build, slack_frontend
from bot.settings import DashScopeSettings, Settings, SlackSettings
from slackapp.frontend import SlackStartError
from tests.fakeslack import FakeSlack


def settings(tmp_path: Path) -> Settings:
    return Settings(
        dashscope=DashScopeSettings(
            api_key="sk-unused-here-0000", base_url_override="http://127.0.0.1:9"
        ),
        database_path=tmp_path / "animate.db",
        media_dir=tmp_path / "media",
    )


async def test_it_is_ready_once_slack_accepts_the_token_and_unregisters_on_exit(
    slack: FakeSlack,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as in production: Bolt finds the token in the environment too (and must not warn)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    tokens = SlackSettings(slack.bot_token, slack.app_token, slack.api_url)
    async with build(settings(tmp_path), session=session) as rt:
        with caplog.at_level(logging.WARNING):
            async with slack_frontend(rt, tokens, session=session) as front:
                assert front.ready() and rt.router.port("slack") is front.port
                assert len(slack.socket.live) == 1
                assert [r.method for r in slack.requests()][:2] == [
                    "auth.test",
                    "apps.connections.open",
                ]
        assert rt.router.port("slack") is None and not rt.router.registered("slack")
        assert not slack.socket.live
        assert not [r for r in caplog.records if r.name.startswith("slack_bolt")], caplog.text


@pytest.mark.parametrize(
    ("bot", "app", "named"),
    [
        ("xoxb-wrong", None, "SLACK_BOT_TOKEN (invalid_auth)"),
        (None, "xapp-wrong", "SLACK_APP_TOKEN (invalid_auth)"),
    ],
)
async def test_a_refused_token_stops_the_start_with_the_variable_named(
    slack: FakeSlack,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    bot: str | None,
    app: str | None,
    named: str,
) -> None:
    tokens = SlackSettings(bot or slack.bot_token, app or slack.app_token, slack.api_url)
    async with build(settings(tmp_path), session=session) as rt:
        with pytest.raises(SlackStartError, match=named.replace("(", r"\(").replace(")", r"\)")):
            async with slack_frontend(rt, tokens, session=session):
                pass
        assert not rt.router.registered("slack")
    assert not slack.socket.live
