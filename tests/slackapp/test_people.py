from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from slackapp.people import People
from tests.fakeslack import FakeSlack


async def test_locale_and_admin_come_from_users_info_once_per_ttl(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    now = [0.0]
    people = People(client, ttl=600.0, now=lambda: now[0])
    zh = slack.add_user("li", locale="zh-CN")
    owner = slack.add_user("boss", owner=True)
    tw = slack.add_user("chen", locale="zh-TW")
    first = await people.get(slack.team_id, zh.id)
    assert (first.locale, first.admin) == ("zh-CN", False)
    assert (await people.get(slack.team_id, owner.id)).admin
    assert (await people.get(slack.team_id, tw.id)).locale == "en-US", "no zh-TW catalog yet"
    await people.get(slack.team_id, zh.id)
    assert len(slack.requests("users.info")) == 3, "cached"
    assert all(
        r.args.get("include_locale") in ("true", True, "1") for r in slack.requests("users.info")
    )
    now[0] = 601.0
    await people.get(slack.team_id, zh.id)
    assert len(slack.requests("users.info")) == 4


async def test_a_failed_lookup_answers_english_and_grants_nothing(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    admin = slack.add_user("root", admin=True, locale="zh-CN")
    people = People(client)
    slack.fail_next("users.info", "internal_error")
    person = await people.get(slack.team_id, admin.id)
    assert (person.locale, person.admin) == ("en-US", False)
