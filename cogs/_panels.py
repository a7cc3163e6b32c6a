"""The settings and usage reports as embeds (no I/O here), in the reader's language."""

from __future__ import annotations

import discord

from cogs._embeds import clean, model_label, money
from cogs._words import N_, say, seconds
from core.app.controls import SettingsReport
from core.app.reports import PersonalUsage, ServerUsage, UsageReport
from core.domain.catalog import DEFAULT_MODEL
from core.domain.guild_settings import SETTINGS, Resolved, Source
from core.domain.ledger import Spend

SOURCES = {
    Source.DEFAULT: N_("source.default"),
    Source.OPERATOR: N_("source.operator"),
    Source.SERVER: N_("source.server"),
    Source.ROLE: N_("source.role"),
}
#: the label of every setting (``setting.<name>``), in ``SETTINGS`` order
LABELS = {name: N_(f"setting.{name}") for name in SETTINGS}
_SECONDS = frozenset({"max_duration", "daily_seconds", "cooldown_seconds"})


def value_text(name: str, value: object, locale: str, currency: str) -> str:
    """One setting's value as an admin reads it."""
    if isinstance(value, bool):
        return say(locale, "config.allowed" if value else "config.not_allowed")
    if value in ((), None, 0, 0.0):
        empty = {
            "channels": "config.everywhere",
            "roles": "config.everyone",
            "models": "config.all_models",
            "blocked_words": "config.none",
            "default_model": "config.bot_default",
        }.get(name, "config.no_limit")
        return say(locale, empty, model=model_label(DEFAULT_MODEL))
    if isinstance(value, tuple):
        if name == "channels":
            return ", ".join(f"<#{i}>" for i in value)
        if name == "roles":
            return ", ".join(f"<@&{i}>" for i in value)
        if name == "models":
            return ", ".join(model_label(str(m)) for m in value)
        return ", ".join(f"`{clean(str(w), 100)}`" for w in value)
    if name == "monthly_budget" and isinstance(value, int | float):
        return money(float(value), currency)
    if name in _SECONDS and isinstance(value, int):
        return seconds(locale, value)
    if name == "default_model":
        return model_label(str(value))
    return str(value)


def _line(name: str, resolved: Resolved, locale: str, currency: str) -> str:
    value = value_text(name, resolved.value, locale, currency)
    return f"{value} · *{say(locale, SOURCES[resolved.source])}*"


def settings_embed(report: SettingsReport, locale: str) -> discord.Embed:
    embed = discord.Embed(title=say(locale, "config.title"), colour=discord.Colour.blurple())
    for name, resolved in report.values.items():
        embed.add_field(
            name=say(locale, LABELS[name]),
            value=_line(name, resolved, locale, report.currency)[:1024],
            inline=name not in ("channels", "roles", "models", "blocked_words"),
        )
    if report.roles:
        lines = []
        for role, values in sorted(report.roles.items()):
            parts = [
                f"{say(locale, LABELS[n])} {value_text(n, v, locale, report.currency)}"
                for n, v in sorted(values.items())
            ]
            lines.append(f"<@&{role}>: " + " · ".join(parts))
        embed.add_field(
            name=say(locale, "config.role_overrides"), value="\n".join(lines)[:1024], inline=False
        )
    embed.set_footer(text=say(locale, "config.footer"))
    return embed


def _spend(spend: Spend, locale: str, currency: str) -> str:
    return say(
        locale,
        "usage.spend",
        videos=spend.videos,
        seconds=seconds(locale, round(spend.seconds, 1)),
        money=money(spend.money, currency),
        refunded=spend.refunded,
    )


def _personal(me: PersonalUsage, locale: str, currency: str) -> list[tuple[str, str]]:
    lim = me.limits
    if lim.daily_seconds:
        left = max(0.0, lim.daily_seconds - me.today.seconds)
        today = say(
            locale,
            "usage.today_limited",
            used=seconds(locale, round(me.today.seconds, 1)),
            limit=seconds(locale, lim.daily_seconds),
            left=seconds(locale, round(left, 1)),
            resets=me.day_resets,
        )
    else:
        today = say(
            locale, "usage.today_unlimited", used=seconds(locale, round(me.today.seconds, 1))
        )
    active = (
        say(locale, "usage.active_limited", active=me.active, limit=lim.active_jobs)
        if lim.active_jobs
        else say(locale, "usage.active_unlimited", active=me.active)
    )
    rows = [
        (say(locale, "usage.today"), today),
        (say(locale, "usage.month"), _spend(me.month, locale, currency)),
        (say(locale, "usage.active"), active),
    ]
    if lim.cooldown_seconds:
        ready = (
            say(locale, "usage.ready_at", when=me.ready_at)
            if me.ready_at
            else say(locale, "usage.ready_now")
        )
        rows.append(
            (say(locale, "usage.cooldown", cooldown=seconds(locale, lim.cooldown_seconds)), ready)
        )
    return rows


def _server(server: ServerUsage, locale: str, currency: str) -> list[tuple[str, str]]:
    spent = money(server.month.money, currency)
    if server.budget:
        left = money(max(0.0, server.budget - server.month.money), currency)
        budget = say(
            locale,
            "usage.budget_limited",
            spent=spent,
            budget=money(server.budget, currency),
            left=left,
            resets=server.resets,
        )
    else:
        budget = say(locale, "usage.budget_unlimited", spent=spent)
    rows = [
        (say(locale, "usage.server_month"), budget + "\n" + _spend(server.month, locale, currency))
    ]
    if server.top_users:
        lines = [f"<@{u}> — {_spend(s, locale, currency)}" for u, s in server.top_users]
        rows.append((say(locale, "usage.top_users"), "\n".join(lines)))
    if server.by_model:
        lines = [f"{model_label(m)} — {_spend(s, locale, currency)}" for m, s in server.by_model]
        rows.append((say(locale, "usage.by_model"), "\n".join(lines)))
    return rows


def usage_embed(report: UsageReport, locale: str) -> discord.Embed:
    embed = discord.Embed(title=say(locale, "usage.title"), colour=discord.Colour.blurple())
    for name, value in _personal(report.personal, locale, report.currency):
        embed.add_field(name=name, value=value[:1024], inline=False)
    if report.server is not None:
        for name, value in _server(report.server, locale, report.currency):
            embed.add_field(name=name, value=value[:1024], inline=False)
    embed.set_footer(text=say(locale, "usage.footer"))
    return embed
