"""Cancel, Regenerate, Show again and Extend: restart-proof buttons (§8).

A button carries its job id in ``value`` and its action in ``action_id``; the click is rebuilt
from that alone, so buttons posted by an earlier process keep working. The facade decides
whether the click may act (``core.app.click_origin``: one of the job's own messages, here its
workspace and channel); Cancel, Regenerate and Extend are for the requester or a workspace
admin or owner (``users.info``). The answer is private.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.errors import AnimateError
from core.domain.jobs import ChatRef, JobView
from core.i18n import t
from slackapp import form, kit
from slackapp.api_errors import error_of
from slackapp.deps import Deps
from slackapp.listeners import refusal
from slackapp.submission import PLATFORM, publish

log = logging.getLogger(__name__)
Json = dict[str, Any]
ACTIONS = re.compile(r"^animate:(cancel|regen|show|extend)$")
# the buttons only the requester may use
_ACTS = {"cancel": "cancel", "regen": "regenerate", "extend": "extend"}


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(form.EXTEND_CALLBACK)
    async def on_extend(ack: AsyncAck, body: Json, view: Json) -> None:
        await ack()  # the form closes at once; cutting the clip may outlast Slack's 3 s
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        try:
            await extend(deps, user=user, team=team, view=view)
        except Exception:
            log.exception("extend form failed")

    @app.action(ACTIONS)
    async def on_click(
        ack: AsyncAck, body: Json, action: Json, respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
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
            channel = container.get("channel_id")
            job = await deps.service.clicked(
                job_id,
                here=lambda chat: team == chat.guild and channel == chat.channel,
                message=container.get("message_ts"),
                user=user,
                moderator=person.admin,
                action=_ACTS.get(kind),
            )
            if kind == "cancel":
                canceled = await deps.service.cancel(job_id, user=user, moderator=person.admin)
                log.info("job %s canceled by %s", canceled.id, user)
                await _private(respond, t(person.locale, "slack.cancel.done", job=job_id))
            elif kind == "extend":
                await _open_extend(
                    deps, client, respond, job, trigger=str(body.get("trigger_id") or ""),
                    user=user, locale=person.locale, admin=person.admin,
                )  # fmt: skip
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


async def _open_extend(
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond,
    job: JobView,
    *,
    trigger: str,
    user: str,
    locale: str,
    admin: bool,
) -> None:
    """The Extend form, with the totals this job's clip allows (a refusal if it cannot be
    extended). A form must open within the click's trigger: only quick reads before it."""
    durations = await deps.service.extend_options(job.id, user=user, moderator=admin)
    origin = form.Origin(job.chat.channel, locale, thread=job.chat.thread)
    try:
        await client.views_open(
            trigger_id=trigger, view=form.extend_view(job.id, durations, origin)
        )
    except SlackApiError as exc:
        log.warning("views.open failed (%s)", error_of(exc))
        await _private(respond, t(locale, "slack.modal.expired"))


async def extend(deps: Deps, *, user: str, team: str, view: Json) -> None:
    """A filled-in Extend form (also one opened before a restart): continue the video and post
    the new status message in the job's thread; a refusal goes to the user alone."""
    job_id, origin, prompt, total = form.extend_request(view)
    person = await deps.people.get(team, user)
    try:
        await deps.places.check(origin.channel, user)
        chat = ChatRef(PLATFORM, user, origin.channel, guild=team, locale=origin.locale)
        new = await deps.service.extend(
            job_id, prompt=prompt, duration=total, user=user, chat=chat, moderator=person.admin
        )
    except AnimateError as exc:
        try:
            await deps.client.chat_postEphemeral(
                channel=origin.channel,
                user=user,
                thread_ts=origin.thread,
                text=refusal(origin.locale, exc),
            )
        except SlackApiError as problem:
            log.info("extend refusal not shown (%s)", error_of(problem))
        return
    log.info("job %s extended as %s by %s", job_id, new.id, user)
    await publish(deps, new, origin)


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
