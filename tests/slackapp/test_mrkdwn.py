from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slackapp import mrkdwn
from tests.fakeslack import pings


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> hi",
        "<!here|here>",
        "<!everyone>",
        "<@U0123ABCD> look",
        "<@W0123ABCD|bob>",
        "<!subteam^S0123ABCD|@devs>",
        "<https://evil.example|totally safe>",
    ],
)
def test_escaped_text_pings_nobody_and_keeps_its_words(text: str) -> None:
    out = mrkdwn.escape(text)
    assert pings(out) == set() and "<" not in out and ">" not in out
    assert out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_only_the_three_control_characters_are_escaped() -> None:
    assert mrkdwn.escape("a & b < c > d * _ ~ `") == "a &amp; b &lt; c &gt; d * _ ~ `"
    assert mrkdwn.escape(None) == ""


def test_safe_clips_after_escaping_without_cutting_an_entity() -> None:
    out = mrkdwn.safe("ab<cd", 4)
    assert out == "ab…", out  # "ab&lt;" would not fit; half an entity must never show
    assert len(mrkdwn.safe("x" * 50, 10)) == 10
    assert mrkdwn.safe("<!here>", 100) == "&lt;!here&gt;"


def test_mentions_are_built_only_from_plain_ids() -> None:
    assert mrkdwn.mention("U0123ABCD") == "<@U0123ABCD>"
    assert mrkdwn.mention("U1> <!channel") == ""


def test_dates_render_in_the_readers_zone_with_a_utc_fallback() -> None:
    when = datetime(2026, 9, 21, 10, 30, tzinfo=UTC)
    assert mrkdwn.date(when) == (
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|2026-09-21 10:30 UTC>"
    )
    assert pings(mrkdwn.date(when)) == set()


def test_money() -> None:
    assert mrkdwn.money(1.5, "CNY") == "¥1.50"
    assert mrkdwn.money(0.075, "USD") == "$0.07" or mrkdwn.money(0.075, "USD") == "$0.08"
    assert mrkdwn.money(2, "EUR") == "2.00 EUR"
