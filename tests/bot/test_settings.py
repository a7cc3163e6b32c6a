from __future__ import annotations

from pathlib import Path

import pytest

from bot.builder import build
from bot.settings import from_env
from core.domain.catalog import Region
from core.domain.errors import ConfigError
from core.domain.guild_settings import OperatorDefaults
from core.domain.jobs import JobSpec
from providers import DashScopeClient

KEY = "sk-secret-value-123"


def test_missing_variables_are_listed_in_one_error() -> None:
    with pytest.raises(ConfigError) as info:
        from_env({"DEV_GUILD_ID": "abc", "DASHSCOPE_REGION": "mars"})
    msg = info.value.message
    for name in ("DISCORD_TOKEN", "DASHSCOPE_API_KEY", "DEV_GUILD_ID", "DASHSCOPE_REGION"):
        assert name in msg
    assert ".;" not in msg


def test_a_bad_region_does_not_hide_a_given_key() -> None:
    with pytest.raises(ConfigError) as info:
        from_env({"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": KEY, "DASHSCOPE_REGION": "moon"})
    assert "DASHSCOPE_REGION" in info.value.message
    assert "DASHSCOPE_API_KEY" not in info.value.message


def test_secrets_never_in_repr() -> None:
    s = from_env({"DISCORD_TOKEN": "tok-abc.def", "DASHSCOPE_API_KEY": KEY})
    assert KEY not in repr(s)
    assert "tok-abc.def" not in repr(s)
    assert s.dashscope.api_key == KEY


def test_base_url_override_and_sdk_variable() -> None:
    env = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k"}
    assert from_env(env).dashscope.base_url == "https://dashscope.aliyuncs.com/api/v1"
    sg = from_env({**env, "DASHSCOPE_REGION": "ap-southeast-1"}).dashscope
    assert sg.region is Region.SINGAPORE
    assert sg.base_url == "https://dashscope-intl.aliyuncs.com/api/v1"
    sdk = from_env({**env, "DASHSCOPE_HTTP_BASE_URL": "http://127.0.0.1:9/api/v1/"}).dashscope
    assert sdk.base_url == "http://127.0.0.1:9/api/v1"
    assert not sdk.is_official_host
    ours = from_env(
        {
            **env,
            "DASHSCOPE_HTTP_BASE_URL": "http://x/api/v1",
            "DASHSCOPE_BASE_URL": "http://y/api/v1",
        }
    ).dashscope
    assert ours.base_url == "http://y/api/v1"


def test_paths_default_next_to_database(tmp_path: Path) -> None:
    s = from_env(
        {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k", "DATABASE_PATH": str(tmp_path / "x.db")}
    )
    assert s.media_dir == tmp_path / "media"
    assert s.dev_guild_id is None


BASE = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": KEY}


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "-1", "-0.5", "1e9", "seven"])
def test_retention_outside_a_finite_range_is_a_config_error(raw: str) -> None:
    # nan made every purge pass raise; a negative value purged every video at once
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "MEDIA_RETENTION_DAYS": raw})
    assert f"MEDIA_RETENTION_DAYS={raw!r}" in info.value.message
    assert "\n" not in info.value.message


@pytest.mark.parametrize(("raw", "days"), [("0", 0.0), (" 0.5 ", 0.5), ("30", 30.0), ("", 7.0)])
def test_retention_in_range_is_accepted(raw: str, days: float) -> None:
    assert from_env({**BASE, "MEDIA_RETENTION_DAYS": raw}).media_retention_days == days


@pytest.mark.parametrize("raw", ["²", "0", "-5", "1.5", str(2**64)])
def test_dev_guild_must_be_a_snowflake(raw: str) -> None:
    # "²".isdigit() is True, and int("²") raised ValueError past the one-line error
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "DEV_GUILD_ID": raw})
    assert "DEV_GUILD_ID" in info.value.message


def test_log_level_must_be_a_level_name() -> None:
    # an unknown name made logging.setLevel raise a traceback after the settings were read
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "LOG_LEVEL": "verbose"})
    assert "LOG_LEVEL='VERBOSE'" in info.value.message
    assert from_env({**BASE, "LOG_LEVEL": "debug"}).log_level == "DEBUG"


def test_per_user_cap_defaults_to_3_and_0_means_unlimited() -> None:
    env = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k"}
    assert from_env(env).limit_user_active_jobs == 3
    assert from_env({**env, "LIMIT_USER_ACTIVE_JOBS": "0"}).limit_user_active_jobs == 0
    assert from_env({**env, "LIMIT_USER_ACTIVE_JOBS": " 5 "}).limit_user_active_jobs == 5
    with pytest.raises(ConfigError, match="LIMIT_USER_ACTIVE_JOBS='-1'"):
        from_env({**env, "LIMIT_USER_ACTIVE_JOBS": "-1"})


def test_database_url_selects_postgres_and_never_shows_its_password() -> None:
    url = "postgresql://bot:s3cret-pw@db.internal:5432/animate"
    s = from_env({**BASE, "DATABASE_URL": url})
    assert s.database_url == url and "s3cret-pw" not in repr(s)
    assert "s3cret-pw" in s.secrets  # redacted from every log line
    assert from_env({**BASE, "DATABASE_URL": "postgres://h/db"}).database_url == "postgres://h/db"
    assert from_env(BASE).database_url is None  # SQLite at DATABASE_PATH
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "DATABASE_URL": "mysql://bot:s3cret-pw@h/db"})
    assert "DATABASE_URL is not a PostgreSQL URL" in info.value.message
    assert "s3cret-pw" not in info.value.message


def test_engine_off_makes_a_front_end_and_needs_a_shared_database() -> None:
    url = "postgresql://h/db"
    assert from_env(BASE).engine is True
    assert from_env({**BASE, "ENGINE": "OFF", "DATABASE_URL": url}).engine is False
    assert from_env({**BASE, "ENGINE": "on"}).engine is True
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "ENGINE": "off"})
    assert "ENGINE=off needs DATABASE_URL" in info.value.message
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "ENGINE": "maybe"})
    assert "ENGINE='maybe' is not on or off" in info.value.message


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [
        ("", "", (None, None)),
        ("4", "", (4, None)),
        ("4", "2, 0,2", (4, (0, 2))),
        ("1", "0", (1, (0,))),
    ],
)
def test_shards(count: str, ids: str, expected: tuple[object, object]) -> None:
    s = from_env({**BASE, "DISCORD_SHARD_COUNT": count, "DISCORD_SHARD_IDS": ids})
    assert (s.shard_count, s.shard_ids) == expected


@pytest.mark.parametrize(
    ("count", "ids", "says"),
    [
        ("0", "", "DISCORD_SHARD_COUNT='0' is not a whole number from 1 to 10000"),
        ("two", "", "DISCORD_SHARD_COUNT='two'"),
        ("", "0", "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT"),
        ("2", "2", "from 0 to 1"),
        ("2", "0;1", "DISCORD_SHARD_IDS='0;1' is not a comma-separated list"),
    ],
)
def test_bad_shards_are_one_clear_line(count: str, ids: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "DISCORD_SHARD_COUNT": count, "DISCORD_SHARD_IDS": ids})
    assert says in info.value.message


def test_a_workspace_id_selects_the_workspace_host() -> None:
    """Reference §1: every region has ``{WorkspaceId}.{region}.maas.aliyuncs.com``."""
    s = from_env({**BASE, "DASHSCOPE_REGION": "eu-central-1", "DASHSCOPE_WORKSPACE_ID": "llm-ab1"})
    assert s.dashscope.base_url == "https://llm-ab1.eu-central-1.maas.aliyuncs.com/api/v1"
    assert s.dashscope.is_official_host
    bj = from_env({**BASE, "DASHSCOPE_WORKSPACE_ID": "ws9"}).dashscope
    assert bj.base_url == "https://ws9.cn-beijing.maas.aliyuncs.com/api/v1"
    # an explicit base URL still wins (the emulator, a proxy)
    local = {**BASE, "DASHSCOPE_WORKSPACE_ID": "ws9", "DASHSCOPE_BASE_URL": "http://127.0.0.1:9"}
    assert from_env(local).dashscope.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DASHSCOPE_REGION": "eu-central-1"}, "DASHSCOPE_REGION=eu-central-1 has no shared"),
        ({"DASHSCOPE_REGION": "ap-northeast-1"}, "set DASHSCOPE_WORKSPACE_ID"),
        ({"DASHSCOPE_WORKSPACE_ID": "evil.example.com/x"}, "is not a workspace id"),
    ],
)
def test_a_region_without_a_host_is_one_config_line(env: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, **env})
    assert words in info.value.message and "\n" not in info.value.message


def test_price_overrides_are_read_from_a_toml_file(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('["wan3.0-video"]\n720P = 0.6\n1080P = 1\n', encoding="utf-8")
    s = from_env({**BASE, "PRICE_OVERRIDES": str(prices)})
    assert s.price_overrides.table == {"wan3.0-video": {"720P": 0.6, "1080P": 1.0}}
    assert from_env(BASE).price_overrides.table == {}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot be read"),
        ("[oops", "is not valid TOML"),
        ('["wan3.0-video"]\n4K = 1\n', "wan3.0-video makes 480P, 720P, 1080P, not '4K'"),
        ('["wan9"]\n720P = 1\n', "unknown model 'wan9'"),
    ],
)
def test_a_bad_price_file_is_one_config_line(
    tmp_path: Path, content: str | None, words: str
) -> None:
    prices = tmp_path / "prices.toml"
    if content is not None:
        prices.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        from_env({**BASE, "PRICE_OVERRIDES": str(prices)})
    assert "PRICE_OVERRIDES=" in info.value.message and words in info.value.message
    assert "\n" not in info.value.message


async def test_the_builder_calls_the_workspace_host_and_prices_with_the_overrides(
    tmp_path: Path,
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('["wan3.0-video"]\n720P = 0.6\n', encoding="utf-8")
    env = {**BASE, "DASHSCOPE_REGION": "eu-central-1", "DASHSCOPE_WORKSPACE_ID": "llm-de1",
           "DATABASE_PATH": str(tmp_path / "a.db"), "PRICE_OVERRIDES": str(prices)}  # fmt: skip
    async with build(from_env(env)) as rt:
        assert isinstance(rt.provider, DashScopeClient)
        assert rt.provider.base_url == "https://llm-de1.eu-central-1.maas.aliyuncs.com/api/v1"
        spec = rt.service.validate(
            JobSpec(model="wan3.0-video", prompt="p", resolution="720P", duration=10)
        ).spec
        assert rt.service.quote(spec).cost == pytest.approx(6.0)


SLACK = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-def"}


def test_slack_alone_is_a_front_end_and_discord_becomes_optional() -> None:
    s = from_env({**SLACK, "DASHSCOPE_API_KEY": KEY})
    assert s.discord_token is None and s.slack is not None
    assert (s.slack.bot_token, s.slack.app_token) == ("xoxb-1-2-abc", "xapp-1-A1-2-def")
    assert s.slack.api_url == "https://slack.com/api/"
    assert "xoxb-1-2-abc" not in repr(s) and "xapp-1-A1-2-def" not in repr(s)
    both = from_env({**SLACK, "DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": KEY})
    assert both.discord_token == "t" and both.slack is not None


def test_no_front_end_at_all_is_one_clear_error() -> None:
    with pytest.raises(ConfigError) as info:
        from_env({"DASHSCOPE_API_KEY": KEY})
    msg = info.value.message
    assert msg.count("Configuration problem") == 1
    assert "DISCORD_TOKEN" in msg and "SLACK_BOT_TOKEN" in msg and "SLACK_APP_TOKEN" in msg


EVENTS = "0123456789abcdef0123"


def test_the_http_server_is_off_by_default_and_listens_on_loopback() -> None:
    s = from_env(BASE)
    assert (s.http_port, s.http_host, s.events_token) == (None, "127.0.0.1", None)
    s = from_env({**BASE, "HTTP_PORT": "8080", "EVENTS_TOKEN": EVENTS})
    assert (s.http_port, s.http_host, s.events_token) == (8080, "127.0.0.1", EVENTS)
    assert EVENTS not in repr(s)
    assert from_env({**BASE, "HTTP_PORT": "1", "HTTP_HOST": "10.0.0.5"}).http_host == "10.0.0.5"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-abc"}, "SLACK_APP_TOKEN is missing"),
        ({"SLACK_APP_TOKEN": "xapp-1-A1-2-def"}, "SLACK_BOT_TOKEN is missing"),
        ({**SLACK, "SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN is not a bot token"),
        ({**SLACK, "SLACK_APP_TOKEN": "xoxb-1-2-abc"}, "SLACK_APP_TOKEN is not an app-level"),
        ({**SLACK, "SLACK_API_URL": "ftp://example"}, "SLACK_API_URL='ftp://example'"),
        ({"SLACK_API_URL": "http://127.0.0.1:1/api/"}, "SLACK_API_URL is set but"),
    ],
)
def test_slack_variables_are_checked(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_env({"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": KEY, **env})
    assert named in info.value.message
    assert "xoxb-1-2-abc" not in info.value.message, "a token is never echoed"


def test_slack_api_url_points_everything_at_a_stand_in() -> None:
    s = from_env({**SLACK, "DASHSCOPE_API_KEY": KEY, "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert s.slack is not None and s.slack.api_url == "http://127.0.0.1:9/api/"


def test_the_other_limits_default_to_unlimited_and_are_checked() -> None:
    env = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k"}
    settings = from_env(env)
    assert settings.operator_limits == OperatorDefaults(active_jobs=3)
    given = {
        **env,
        "LIMIT_USER_DAILY_SECONDS": "60",
        "LIMIT_GUILD_MONTHLY_BUDGET": "12.5",
        "LIMIT_COOLDOWN_SECONDS": "30",
        "LIMIT_USER_ACTIVE_JOBS": "0",
    }
    assert from_env(given).operator_limits == OperatorDefaults(
        active_jobs=0, daily_seconds=60, cooldown_seconds=30, monthly_budget=12.5
    )
    bad = {
        **env,
        "LIMIT_USER_DAILY_SECONDS": "1.5",
        "LIMIT_GUILD_MONTHLY_BUDGET": "-3",
        "LIMIT_COOLDOWN_SECONDS": "soon",
    }
    with pytest.raises(ConfigError) as caught:
        from_env(bad)
    message = caught.value.message
    assert "\n" not in message  # one line, every problem in it
    for name in ("LIMIT_USER_DAILY_SECONDS='1.5'", "LIMIT_GUILD_MONTHLY_BUDGET='-3'",
                 "LIMIT_COOLDOWN_SECONDS='soon'"):  # fmt: skip
        assert name in message


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HTTP_PORT": "0"}, "HTTP_PORT"),
        ({"HTTP_PORT": "65536"}, "HTTP_PORT"),
        ({"HTTP_PORT": "80a"}, "HTTP_PORT"),
        ({"HTTP_PORT": "8080", "HTTP_HOST": "a b"}, "HTTP_HOST"),
        ({"HTTP_PORT": "8080", "EVENTS_TOKEN": "short"}, "at least 16"),
        ({"HTTP_PORT": "8080", "EVENTS_TOKEN": "é" * 20}, "printable ASCII"),
        ({"EVENTS_TOKEN": EVENTS}, "HTTP_PORT is not"),
    ],
)
def test_http_settings_are_checked_with_a_clear_message(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named) as info:
        from_env({**BASE, **env})
    assert EVENTS not in info.value.message
