"""Safe text for Slack: mrkdwn escaping, clipping, dates and money (no I/O here).

User text (prompts, file names, error texts that quote them) never pings anyone: in ``mrkdwn``
and in a message's fallback ``text`` the control characters ``& < >`` are escaped (§6, mention
safety), which turns ``<!channel>``, ``<!here>``, ``<!everyone>``, ``<@U…>`` and
``<!subteam^S…>`` into plain text; prompts are shown in ``plain_text`` objects, which Slack does
not parse at all. The bot never sends ``parse=full`` or ``link_names``, so a bare ``@here``
stays text too.
"""

from __future__ import annotations

from datetime import datetime

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SYMBOL = {"CNY": "¥", "USD": "$"}


def escape(text: str | None) -> str:
    """``text`` with Slack's three control characters escaped (only these, per the docs)."""
    return (text or "").translate(_ESCAPES)


def clip(text: str | None, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (Block Kit limits count characters)."""
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe(text: str | None, limit: int) -> str:
    """Escaped for mrkdwn and clipped to ``limit`` *after* escaping (entities count too), never
    cutting an entity in half."""
    out = escape(text)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def mention(user_id: str) -> str:
    """The requester's own mention (only ever built from an id Slack gave us)."""
    return f"<@{user_id}>" if user_id.isalnum() else ""


def date(when: datetime, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A Slack date, shown in each reader's own time zone (``<!date^…>``); the fallback is UTC."""
    stamp = int(when.timestamp())
    fallback = when.strftime(fallback_format)
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def money(amount: float, currency: str) -> str:
    symbol = _SYMBOL.get(currency)
    return f"{symbol}{amount:.2f}" if symbol else f"{amount:.2f} {currency}"
