"""auth.test, users.info and apps.connections.open (reference §2, §11, §12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakeslack._model import Json
from tests.fakeslack._registry import ApiError, arg_bool, arg_str, method

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack


@method("auth.test")
async def auth_test(fake: FakeSlack, args: Json) -> Json:
    # Bolt reads user_id, bot_id, team_id, enterprise_id and the X-OAuth-Scopes header
    return {
        "url": f"https://{fake.domain}.slack.com/",
        "team": fake.team_name,
        "user": fake.bot_user.name,
        "team_id": fake.team_id,
        "user_id": fake.bot_user.id,
        "bot_id": fake.bot_id,
        "is_enterprise_install": False,
    }


@method("users.info", scope="users:read")
async def users_info(fake: FakeSlack, args: Json) -> Json:
    user = fake.users.get(arg_str(args, "user", required=False))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.payload(include_locale=arg_bool(args, "include_locale"))}


@method("apps.connections.open", kind="app")
async def connections_open(fake: FakeSlack, args: Json) -> Json:
    return {"url": fake.socket.issue_url()}
