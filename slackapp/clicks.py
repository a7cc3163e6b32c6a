"""Cancel, Regenerate and Show again: restart-proof buttons (§8).

A button carries its job id in ``value`` and its action in ``action_id``; the click is rebuilt
from that alone, so buttons posted by an earlier process keep working. The id is not trusted
on its own (a database restored from a backup would give the number to another job): a click
acts only when it comes from one of the job's own messages (its status message or its posted
outcome) in the job's workspace and channel. Cancel and Regenerate are for the requester or a
workspace admin or owner (``users.info``); the facade enforces the rule, the answer is private.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from core.domain.errors import AnimateError, Kind
from core.domain.jobs import ChatRef, JobView, require_requester
from core.i18n import t
from slackapp import form, kit
from slackapp.deps import Deps
from slackapp.listeners import refusal
from slackapp.submission import PLATFORM, publish

log = logging.getLogger(__name__)
Json = dict[str, Any]
ACTIONS = re.compile(r"^animate:(cancel|regen|show)$")
_ACTS = {"cancel": "cancel", "regen": "regenerate"}  # the buttons only the requester may use


async def job_for_click(
    deps: Deps,
    job_id: int,
    *,
    team: str,
    channel: str | None,
    message: str | None,
    acting: tuple[str, str, bool] | None = None,
) -> JobView:
    """The clicked job, if the click came from one of its own messages in its place.

    ``acting`` is (action, user, admin) for Cancel and Regenerate: while the job's status
    message is not recorded yet, a click from someone who may not act at all is refused for
    that, not asked to wait."""
    job = await deps.service.get(job_id)
    if job is None:
        raise AnimateError(
            f"There is no job #{job_id}.",
            key="job.not_found",
            params={"job": job_id},
            kind=Kind.NOT_FOUND,
        )
    own = {m for m in (job.chat.status_message, job.posted_message_id) if m}
    here = team == job.chat.guild and channel == job.chat.channel
    if here and message is not None and message in own:
        return job
    if here and job.chat.status_message is None and job.status.active:
        if acting is not None:
            action, user, admin = acting
            require_requester(job.chat, user, moderator=admin, action=action)
        raise AnimateError(
            f"Job #{job.id} is still being set up; try again in a moment.",
            key="click.setting_up",
            params={"job": job.id},
            kind=Kind.BUSY,
        )
    log.info(
        "click for job %s refused: message %s in %s/%s is not one of its messages",
        job.id,
        message,
        team,
        channel,
    )
    raise AnimateError(
        f"This button is not on job #{job.id}'s own status or result message here (it may be "
        "from before the bot's data was reset), so nothing was done.",
        key="click.foreign_message",
        params={"job": job.id},
        kind=Kind.PERMISSION,
    )


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ACTIONS)
    async def on_click(ack: AsyncAck, body: Json, action: Json, respond: AsyncRespond) -> None:
        await ack()
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        container = body.get("container") or {}
        person = await deps.people.get(team, user)
        kind = action["action_id"].split(":")[1]
        try:
            job_id = int(str(action.get("value") or ""))
        except ValueError:
            log.info("click without a job id: %r", action.get("value"))
            return
        try:
            job = await job_for_click(
                deps,
                job_id,
                team=team,
                channel=container.get("channel_id"),
                message=container.get("message_ts"),
                acting=(_ACTS[kind], user, person.admin) if kind in _ACTS else None,
            )
            if kind == "cancel":
                canceled = await deps.service.cancel(job_id, user=user, moderator=person.admin)
                log.info("job %s canceled by %s", canceled.id, user)
                await _private(respond, t(person.locale, "slack.cancel.done", job=job_id))
            elif kind == "regen":
                await _regenerate(
                    deps, job, user=user, team=team, locale=person.locale, admin=person.admin
                )
            else:
                text, blocks = kit.show_again(job, person.locale)
                await respond(
                    text=text, blocks=blocks, response_type="ephemeral", replace_original=False
                )
        except AnimateError as exc:
            await _private(respond, refusal(person.locale, exc))


async def _regenerate(
    deps: Deps, job: JobView, *, user: str, team: str, locale: str, admin: bool
) -> None:
    """Same settings and inputs, a new seed: a new job with its own status message, in the
    same thread when the original came from a message shortcut's thread."""
    own_thread = job.chat.thread if job.chat.thread != job.chat.status_message else None
    origin = form.Origin(job.chat.channel, locale, thread=own_thread)
    await deps.places.check(origin.channel, user)
    chat = ChatRef(PLATFORM, user, job.chat.channel, guild=team, locale=locale)
    new = await deps.service.regenerate(job.id, user=user, chat=chat, moderator=admin)
    log.info("job %s regenerated as %s by %s", job.id, new.id, user)
    await publish(deps, new, origin)


async def _private(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
