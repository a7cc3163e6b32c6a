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


BASE = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k"}


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
