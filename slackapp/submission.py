"""From a submitted modal to a recorded job and its status message.

The order keeps money safe (§4, ARCHITECTURE "A request"): the facade's one validation first,
then whether the bot can post here, then the per-user cap (``intake``) before any byte is
read, then the picture's bytes (from Slack, bounded), then ``submit``, which judges the bytes
(a PDF named ``cat.png`` is refused here) and records the job. Any refusal is an
``AnimateError`` and nothing was spent. The status message is posted afterwards, in the channel
or the shortcut's thread, tagged with the job (``metadata``), and recorded with ``attach_chat``.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from core.domain.errors import Input, ValidationError
from core.domain.jobs import ChatRef, JobView
from slackapp import answers, form, kit
from slackapp.api_errors import TRANSIENT, error_of
from slackapp.deps import Deps

log = logging.getLogger(__name__)
PLATFORM = "slack"


def no_image() -> ValidationError:
    return ValidationError(
        "Attach the picture to animate (JPEG, PNG, WEBP or BMP).",
        key="slack.modal.no_image",
        subject=Input.IMAGE,
    )


async def accept(
    deps: Deps, *, user: str, team: str, values: dict[str, object], origin: form.Origin
) -> JobView:
    """Validate, check, read and record one modal submission; ``AnimateError`` if refused."""
    asked = answers.read(values, deps.region)
    end, clip = asked.end_upload, asked.clip_upload
    picture: tuple[str, int, str] | None = None  # name, size, url
    if origin.source is not None:
        picture = origin.source.name, origin.source.size, origin.source.url
    elif asked.upload is not None:
        picture = _name(asked.upload), _size(asked.upload), _url(asked.upload)
    if picture is None and clip is None:
        raise no_image()
    checked = deps.service.validate(
        asked.spec, last_frame=end is not None, clip=clip is not None, image=picture is not None
    )
    await deps.places.check(origin.channel, user)
    if picture is not None:
        deps.reader.check_size(picture[0], picture[1])
    for extra in (end, clip):
        if extra is not None:
            deps.reader.check_size(_name(extra), _size(extra))
    chat = ChatRef(PLATFORM, user, origin.channel, guild=team, locale=origin.locale)
    # the per-user cap refuses before any byte is read; few requests hold bytes at once
    async with deps.service.intake(chat):
        data = await deps.reader.read(picture[2], name=picture[0]) if picture else None
        last = await deps.reader.read(_url(end), name=_name(end)) if end is not None else None
        video = await deps.reader.read(_url(clip), name=_name(clip)) if clip is not None else None
        job = await deps.service.submit(
            spec=checked, image=data, chat=chat, last_frame=last, clip=video
        )
    log.info("job %s submitted on Slack by %s (%s)", job.id, user, job.spec.model)
    return job


def _name(upload: dict[str, object]) -> str:
    return str(upload.get("name") or "image")


def _size(upload: dict[str, object]) -> int:
    return int(str(upload.get("size") or 0))


def _url(upload: dict[str, object]) -> str:
    return str(upload.get("url_private_download") or upload.get("url_private"))


async def publish(deps: Deps, job: JobView, origin: form.Origin) -> None:
    """Post the status message and record where it lives. The job is already recorded, so a
    Slack hiccup here is logged, not shown: the port posts in the channel all the same."""
    text, blocks = kit.status_message(job, job.chat.locale)
    try:
        answer = await deps.client.chat_postMessage(
            channel=origin.channel,
            thread_ts=origin.thread,
            text=text,
            blocks=blocks,
            metadata=kit.metadata(job.id, "status"),
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        if error_of(exc) != "not_in_channel":
            log.warning("job %s: status message not posted (%s)", job.id, error_of(exc))
            return
        deps.places.forget(origin.channel)
        log.warning("job %s: not in %s; the result will say so", job.id, origin.channel)
        return
    except TRANSIENT as exc:
        log.warning("job %s: status message not posted (%s)", job.id, type(exc).__name__)
        return
    status = str(answer["ts"])
    try:
        await deps.service.attach_chat(
            job.id, thread=origin.thread or status, status_message=status
        )
    except Exception:
        log.exception("job %s: could not record its status message", job.id)
