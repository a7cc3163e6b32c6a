"""The settings and usage reports as Discord shows them, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from cogs._panels import settings_embed, usage_embed
from core.app.controls import SettingsReport
from core.app.reports import PersonalUsage, ServerUsage, UsageReport
from core.domain.guild_settings import SETTINGS, Resolved, Source
from core.domain.ledger import Spend
from core.domain.quota import Limits

RESETS = datetime(2026, 1, 2, tzinfo=UTC)
STAMP = f"<t:{int(RESETS.timestamp())}:R>"
REPORT = UsageReport(
    personal=PersonalUsage(
        today=Spend(videos=1, refunded=1, seconds=5.0, money=2.5),
        month=Spend(videos=3, refunded=1, seconds=15.0, money=7.5),
        active=1,
        limits=Limits(active_jobs=3, daily_seconds=10),
        day_resets=RESETS,
        month_resets=datetime(2026, 2, 1, tzinfo=UTC),
        ready_at=None,
    ),
    server=ServerUsage(
        month=Spend(videos=12, refunded=2, seconds=60.0, money=30.0),
        budget=50.0,
        top_users=[("111", Spend(videos=3, refunded=1, seconds=15.0, money=7.5))],
        by_model=[("wan2.6-i2v-flash", Spend(videos=12, refunded=2, seconds=60.0, money=30.0))],
        resets=RESETS,
    ),
    currency="CNY",
)


def rows(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


def test_the_usage_report_in_english() -> None:
    embed = usage_embed(REPORT, "en-US")
    assert embed.title == "Your /animate usage"
    assert rows(embed) == {
        "Today (UTC)": f"5 s of 10 s · 5 s left · resets {STAMP}",
        "This month": "3 videos · 15 s · ¥7.50 · 1 refunded",
        "In progress": "1 of at most 3",
        "This server this month": f"¥30.00 of ¥50.00 spent or reserved · ¥20.00 left · resets "
        f"{STAMP}\n12 videos · 60 s · ¥30.00 · 2 refunded",
        "Top users this month": "<@111> — 3 videos · 15 s · ¥7.50 · 1 refunded",
        "By model": "Wan 2.6 Flash — 12 videos · 60 s · ¥30.00 · 2 refunded",
    }


def test_the_usage_report_in_chinese() -> None:
    embed = usage_embed(REPORT, "zh-CN")
    assert embed.title == "你的 /animate 用量"
    got = rows(embed)
    assert got["今天（UTC）"] == f"已用 5 秒（共 10 秒）· 剩余 5 秒 · {STAMP}重置"
    assert got["本月"] == "3 个视频 · 15 秒 · ¥7.50 · 退款 1 个"
    assert got["进行中"] == "1 个（上限 3 个）"
    assert got["本服务器本月"].startswith("已花费或预留 ¥30.00（预算 ¥50.00）· 剩余 ¥20.00")


def test_the_settings_show_where_each_value_comes_from() -> None:
    values = {name: Resolved(s.default, Source.DEFAULT) for name, s in SETTINGS.items()}
    values["daily_seconds"] = Resolved(30, Source.OPERATOR)
    values["channels"] = Resolved(("1", "2"), Source.SERVER)
    values["monthly_budget"] = Resolved(50.0, Source.SERVER)
    report = SettingsReport(values, {"9": {"daily_seconds": 0}}, "CNY")
    en = rows(settings_embed(report, "en-US"))
    assert en["Channels"] == "<#1>, <#2> · *this server*"
    assert en["Video-seconds per person per day"] == "30 s · *the bot owner's default*"
    assert en["Monthly budget"] == "¥50.00 · *this server*"
    assert en["Default model"] == "the bot's default (Wan 2.6 Flash) · *built-in default*"
    assert en["Per-role limits"] == "<@&9>: Video-seconds per person per day no limit"
    zh = rows(settings_embed(report, "zh-CN"))
    assert zh["每人每天的视频秒数"] == "30 秒 · *机器人所有者的默认值*"
    assert zh["声音"] == "允许 · *内置默认值*"
