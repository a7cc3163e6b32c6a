from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import from_env
from core.domain.catalog import Region
from core.domain.errors import ConfigError

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


BASE = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": KEY}
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
