"""Server settings, the pure part: values checked, resolved role → server → operator → default."""

from __future__ import annotations

import pytest

from core.domain.guild_settings import (
    OperatorDefaults,
    ServerSettings,
    SettingError,
    Source,
    StoredSetting,
    parse,
)


@pytest.mark.parametrize(
    ("name", "value", "parsed"),
    [
        ("daily_seconds", 30, 30),
        ("monthly_budget", 12, 12.0),
        ("monthly_budget", 0.125, 0.125),
        ("sound", False, False),
        ("max_resolution", "720P", "720P"),
        ("default_model", "wan2.1-i2v-plus", "wanx2.1-i2v-plus"),  # a regional id → catalog id
        ("models", ["wan2.2-i2v-flash", "wan2.2-i2v-flash"], ("wan2.2-i2v-flash",)),
        ("channels", ["12", "34", "12"], ("12", "34")),
        ("blocked_words", ["  Big   DOG ", "ｃａｔ"], ("big dog", "cat")),
    ],
)
def test_values_are_checked_and_normalised(name: str, value: object, parsed: object) -> None:
    assert parse(name, value) == parsed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("daily_seconds", True),
        ("daily_seconds", -1),
        ("monthly_budget", float("inf")),
        ("monthly_budget", False),
        ("sound", 1),
        ("max_resolution", "4K"),
        ("models", "wan2.2-i2v-flash"),
        ("channels", ["general"]),
        ("blocked_words", [" "]),
        ("blocked_words", ["x"] * 101),
        ("no_such_setting", 1),
    ],
)
def test_values_that_do_not_fit_are_refused(name: str, value: object) -> None:
    with pytest.raises(SettingError):
        parse(name, value)


def test_resolution_order_and_sources() -> None:
    operator = OperatorDefaults(daily_seconds=20, cooldown_seconds=0)
    settings = ServerSettings.from_rows(
        [
            StoredSetting("", "active_jobs", 2),
            StoredSetting("", "default_model", "gone-from-the-catalog"),  # skipped, not fatal
            StoredSetting("10", "daily_seconds", 30),
            StoredSetting("11", "daily_seconds", 0),
            StoredSetting("12", "cooldown_seconds", 60),
            StoredSetting("13", "cooldown_seconds", 30),
            StoredSetting("14", "monthly_budget", 5),  # not a per-role setting: ignored
        ]
    )
    get = settings.resolve
    assert (get("daily_seconds", operator).value, get("daily_seconds", operator).source) == (
        20,
        Source.OPERATOR,
    )
    assert get("active_jobs", operator).source is Source.SERVER
    assert get("default_model", operator).source is Source.DEFAULT
    assert get("daily_seconds", operator, ["10"]).value == 30
    # the most generous role wins: no limit beats 30 s, a shorter cooldown beats a longer one
    both = get("daily_seconds", operator, ["10", "11"])
    assert (both.value, both.source, both.role) == (0, Source.ROLE, "11")
    assert get("cooldown_seconds", operator, ["12", "13"]).value == 30
    assert get("monthly_budget", operator, ["14"]).source is Source.DEFAULT
