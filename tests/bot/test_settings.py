from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import health
from bot.settings import from_env
from core.catalog import Region
from core.errors import ConfigError

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


def test_heartbeat_freshness(tmp_path: Path) -> None:
    db = tmp_path / "animate.db"
    assert not health.is_fresh(db, 60)
    health.touch(db)
    mtime = health.heartbeat_path(db).stat().st_mtime
    assert health.is_fresh(db, 60, now=mtime + 59)
    assert not health.is_fresh(db, 60, now=mtime + 61)


def test_health_main_reads_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "d" / "animate.db"
    monkeypatch.setenv("DATABASE_PATH", str(db))
    assert health.main() == 1
    health.touch(db)
    assert health.main() == 0
    os.utime(health.heartbeat_path(db), (0, 0))
    assert health.main() == 1


def test_per_user_cap_defaults_to_3_and_0_means_unlimited() -> None:
    env = {"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "k"}
    assert from_env(env).limit_user_active_jobs == 3
    assert from_env({**env, "LIMIT_USER_ACTIVE_JOBS": "0"}).limit_user_active_jobs == 0
    assert from_env({**env, "LIMIT_USER_ACTIVE_JOBS": " 5 "}).limit_user_active_jobs == 5
    with pytest.raises(ConfigError, match="LIMIT_USER_ACTIVE_JOBS='-1'"):
        from_env({**env, "LIMIT_USER_ACTIVE_JOBS": "-1"})
