"""``/animate``, ``/animate jobs``, the "Animate this image" shortcut and the modal (§3-§5).

Every listener acks first (Slack's window is 3 s, §2) and opens the modal with the trigger at
once (it lasts 3 s and works once, §4). A submission is acked only when its answer is known:
the work (validation, the picture, ``submit``) runs for at most ``Deps.ack_budget`` seconds,
so a refusal can still appear inline in the modal (``response_action: errors``, nothing spent).
Work that takes longer keeps going behind a "checking" view that the outcome then replaces.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.catalog import DEFAULT_MODEL
from core.domain.errors import AnimateError
from core.i18n import error_text, t
from slackapp import answers, form, kit
from slackapp.api_errors import error_of
from slackapp.deps import Deps
from slackapp.submission import accept, publish

log = logging.getLogger(__name__)
Json = dict[str, Any]
SHORTCUT = "animate_image"
JOBS_WORDS = frozenset({"jobs", "history", "list"})
HELP_WORDS = frozenset({"help", "?"})
ERROR_MAX = 1000
#: pauses before each attempt to replace the "checking" view (about 3 s in all)
REPLACE_PAUSES = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 1.0)
_IMAGE_MIMES = ("image/",)
_UNKNOWN_MIMES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def refusal(locale: str, exc: AnimateError) -> str:
    return error_text(locale, exc.key, exc.params, exc.message)


def pick_image(files: list[Json]) -> Json | None:
    """The picture on a message: the first labelled one, else the first file Slack could not
    label yet (fresh uploads show ``mimetype: ""`` until scanned, §5): its bytes decide."""

    def kind(f: Json) -> str:
        return str(f.get("mimetype") or "").lower()

    labelled = [
        f
        for f in files
        if kind(f).startswith(_IMAGE_MIMES)
        or str(f.get("filetype") or "").lower() in form.IMAGE_TYPES
    ]
    unlabelled = [f for f in files if kind(f) in _UNKNOWN_MIMES]
    chosen = labelled or unlabelled
    return chosen[0] if chosen else None


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/animate")
    async def on_command(
        ack: AsyncAck, body: Json, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        text = str(body.get("text") or "").strip()
        user, team, channel = body["user_id"], body["team_id"], body["channel_id"]
        if text.lower() in HELP_WORDS:
            locale = await deps.people.locale(team, user, within=deps.locale_budget)
            await ack(text=t(locale, "slack.help"))
            return
        await ack()
        if text.lower() in JOBS_WORDS:
            locale = (await deps.people.get(team, user)).locale
            jobs = await deps.service.recent(platform="slack", user=user)
            fallback, blocks = kit.jobs_list(jobs, locale)
            await respond(text=fallback, blocks=blocks, response_type="ephemeral")
            return
        locale = await deps.people.locale(team, user, within=deps.locale_budget)
        origin = form.Origin(channel, locale)
        await _open(deps, client, respond, body["trigger_id"], origin, prompt=text or None)

    @app.shortcut({"callback_id": SHORTCUT, "type": "message_action"})
    async def on_shortcut(
        ack: AsyncAck, body: Json, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user, team = body["user"]["id"], (body.get("team") or {}).get("id", "")
        locale = await deps.people.locale(team, user, within=deps.locale_budget)
        message = body.get("message") or {}
        image = pick_image(list(message.get("files") or []))
        if image is None:
            await respond(text=t(locale, "slack.shortcut.no_image"), response_type="ephemeral")
            return
        source = form.SourceFile(
            str(image["id"]),
            str(image.get("name") or "image")[:200],  # private_metadata holds 3000 characters
            int(image.get("size") or 0),
            str(image.get("url_private_download") or image.get("url_private") or ""),
        )
        thread = str(message.get("thread_ts") or message.get("ts") or body["message_ts"])
        origin = form.Origin(body["channel"]["id"], locale, thread=thread, source=source)
        await _open(deps, client, respond, body["trigger_id"], origin, prompt=None)

    @app.action(form.ACTION_MODEL)
    async def on_model(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        origin = form.Origin.load(view["private_metadata"])
        values = (view.get("state") or {}).get("values") or {}
        chosen = str(body["actions"][0]["selected_option"]["value"])
        rebuilt = form.build(
            origin,
            deps.region,
            model_id=chosen,
            prompt=answers.typed_prompt(values),
            chosen=answers.choices(values),
        )
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=rebuilt)
        except SlackApiError as exc:
            # hash_conflict: a newer choice already rebuilt it; not_found: the user closed it
            log.info("model change not applied (%s)", error_of(exc))

    @app.view(form.CALLBACK)
    async def on_submit(ack: AsyncAck, body: Json, view: Json, client: AsyncWebClient) -> None:
        origin = form.Origin.load(view["private_metadata"])
        user = body["user"]["id"]
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        values = (view.get("state") or {}).get("values") or {}
        work = asyncio.ensure_future(
            accept(deps, user=user, team=team, values=values, origin=origin)
        )
        done, _ = await asyncio.wait({work}, timeout=deps.ack_budget)
        if work in done:
            try:
                job = work.result()
            except AnimateError as exc:
                text = form_error(origin, exc)
                await ack(response_action="errors", errors={answers.error_block(view, exc): text})
                return
            except Exception:
                log.exception("modal submission failed")
                text = t(origin.locale, "slack.internal")
                await ack(
                    response_action="errors", errors={answers.error_block(view, _INTERNAL): text}
                )
                return
            await ack()
            await publish(deps, job, origin)
            return
        # slower than the window allows: answer now, and show the outcome when it is known
        waiting = f"animate-wait-{view['id']}"
        await ack(response_action="update", view=form.waiting(origin, waiting))
        try:
            job = await work
        except AnimateError as exc:
            again = form.build(
                origin,
                deps.region,
                model_id=_model_of(values, deps),
                prompt=answers.typed_prompt(values),
                chosen=answers.choices(values),
                problem=refusal(origin.locale, exc),
            )
            await _replace(client, waiting, again)
            return
        await publish(deps, job, origin)
        await _replace(client, waiting, form.started(origin, job.id))


_INTERNAL = AnimateError("internal", key="slack.internal")


def form_error(origin: form.Origin, exc: AnimateError) -> str:
    text = refusal(origin.locale, exc)
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


def _model_of(values: Json, deps: Deps) -> str:
    try:
        return answers.read(values, deps.region).model.id
    except AnimateError:
        return DEFAULT_MODEL


async def _open(
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond,
    trigger: str,
    origin: form.Origin,
    *,
    prompt: str | None,
) -> None:
    try:
        await client.views_open(
            trigger_id=trigger, view=form.build(origin, deps.region, prompt=prompt)
        )
    except SlackApiError as exc:
        log.warning("views.open failed (%s)", error_of(exc))
        await respond(text=t(origin.locale, "slack.modal.expired"), response_type="ephemeral")


async def _replace(client: AsyncWebClient, waiting: str, view: Json) -> None:
    """Replace the "checking" view once Slack shows it (the ack travels on the socket, this on
    HTTP: until the ack is applied its ``external_id`` is unknown, ``not_found``)."""
    for pause in REPLACE_PAUSES:
        await asyncio.sleep(pause)
        try:
            await client.views_update(external_id=waiting, view=view)
        except SlackApiError as exc:
            if error_of(exc) != "not_found":
                log.info("modal not updated (%s)", error_of(exc))
                return
            continue
        return
    log.info("modal not updated: the user closed it")
