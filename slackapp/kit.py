"""Block Kit for every message the bot posts about a job (no I/O here).

Status, failure notice, link result, "Show again" and the ``/animate jobs`` list, each in the
reader's catalog language (``core.i18n``). User text goes into ``plain_text`` (never parsed) or
through :func:`slackapp.mrkdwn.safe`; nothing here can ping. Buttons carry the job id in their
``value`` and the action in their ``action_id`` (``animate:cancel`` …), so a click on a message
posted by an earlier process is rebuilt from the click alone. Posts that matter for delivery
carry ``metadata`` (``event_type`` :data:`EVENT_TYPE`, the job id and the post's role), which is
how :mod:`slackapp.slack_port` recognises them after a crash.
"""

from __future__ import annotations

from typing import Any

from core.app.extend import extendable
from core.domain.catalog import find_model
from core.domain.jobs import JobStatus, JobView
from core.i18n import error_text, t
from slackapp import mrkdwn

Json = dict[str, Any]

EVENT_TYPE = "animate_job"
ACTION_CANCEL = "animate:cancel"
ACTION_REGENERATE = "animate:regen"
ACTION_SHOW = "animate:show"
ACTION_EXTEND = "animate:extend"
ACTION_DOWNLOAD = "animate:download"
#: Block Kit: section text 3000 characters, plain_text the same (§6 Block Kit limits)
SECTION_MAX = 3000
#: chat.update refuses a fallback ``text`` over 4000 characters (§6)
TEXT_MAX = 3000

_S = JobStatus
_FINISHED_WITHOUT_VIDEO = frozenset({_S.FAILED, _S.CANCELED, _S.EXPIRED, _S.DELIVERY_FAILED})


def metadata(job_id: int, role: str, **extra: Any) -> Json:
    """Message metadata naming the job and what the message is (``status``, ``result`` …)."""
    return {"event_type": EVENT_TYPE, "event_payload": {"job_id": job_id, "role": role, **extra}}


def job_of(message: Json) -> tuple[int, Json] | None:
    """The job id and payload of one of our tagged messages, else None."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") != EVENT_TYPE or not isinstance(payload, dict):
        return None
    job_id = payload.get("job_id")
    return (job_id, payload) if isinstance(job_id, int) else None


def state(locale: str, status: JobStatus) -> str:
    return t(locale, f"slack.state.{status.value}")


def _plain(text: str) -> Json:
    return {"type": "plain_text", "text": mrkdwn.clip(text, SECTION_MAX), "emoji": False}


def _section(text: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(parts: list[str]) -> Json:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(parts)}]}


def button(locale: str, action: str, job_id: int, *, style: str | None = None) -> Json:
    key = {
        ACTION_CANCEL: "cancel",
        ACTION_REGENERATE: "regenerate",
        ACTION_SHOW: "show",
        ACTION_EXTEND: "extend",
    }[action]
    out: Json = {
        "type": "button",
        "action_id": action,
        "value": str(job_id),
        "text": {"type": "plain_text", "text": t(locale, f"slack.button.{key}")},
    }
    if style:
        out["style"] = style
    if action == ACTION_CANCEL:
        out["confirm"] = {
            "title": {"type": "plain_text", "text": t(locale, "slack.confirm.title")},
            "text": {"type": "plain_text", "text": t(locale, "slack.confirm.text")},
            "confirm": {"type": "plain_text", "text": t(locale, "slack.confirm.yes")},
            "deny": {"type": "plain_text", "text": t(locale, "slack.confirm.no")},
            "style": "danger",
        }
    return out


def _actions(job_id: int, elements: list[Json]) -> list[Json]:
    return (
        [{"type": "actions", "block_id": f"job-{job_id}", "elements": elements}] if elements else []
    )


def model_label(model_id: str) -> str:
    model = find_model(model_id)
    return model.label if model else model_id


def settings_line(locale: str, job: JobView) -> str:
    spec = job.spec
    parts = [
        mrkdwn.escape(model_label(spec.model)),
        spec.resolution,
        t(locale, "slack.unit.seconds", seconds=spec.duration),
    ]
    if spec.template:
        parts.append(t(locale, "slack.status.effect", effect=mrkdwn.escape(spec.template)))
    if spec.aspect != "original":
        parts.append(f"{spec.aspect} ({spec.fill})")
    if not spec.sound:
        parts.append(t(locale, "slack.status.silent"))
    return " · ".join(parts)


def cost_text(locale: str, job: JobView) -> str:
    if job.cost is not None:
        return t(locale, "slack.status.cost", cost=mrkdwn.money(job.cost, job.currency))
    return t(locale, "slack.status.estimate", cost=mrkdwn.money(job.cost_estimate, job.currency))


def failure_reason(locale: str, job: JobView) -> str:
    """What happened, in the reader's language, plus what to do about it."""
    if job.status is _S.CANCELED:
        return t(locale, "slack.failure.canceled")
    if job.status is _S.DELIVERY_FAILED:
        return t(locale, "slack.failure.delivery")
    english = job.error_message or t("en-US", "slack.failure.unknown")
    base = error_text(locale, job.error_key or "", job.error_params, english)
    code = (job.error_code or "").lower()
    if "moderation" in code or "datainspection" in code or "inappropriate" in code:
        hint = "slack.hint.moderation"
    elif "quota" in code or "arrearage" in code or "allocation" in code:
        hint = "slack.hint.quota"
    elif "busy" in code or "rate" in code or "throttl" in code:
        hint = "slack.hint.busy"
    elif "auth" in code or "permission" in code or "config" in code:
        hint = "slack.hint.config"
    elif job.status is _S.EXPIRED:
        hint = "slack.hint.expired"
    else:
        hint = "slack.hint.retry"
    return f"{base}\n{t(locale, hint)}"


def status_message(job: JobView, locale: str) -> tuple[str, list[Json]]:
    """The public status message: state, prompt, settings, queue, ETA, cost, buttons."""
    title = state(locale, job.status)
    blocks: list[Json] = [_section(f"*{title}*")]
    if job.spec.prompt:
        blocks.append({"type": "section", "text": _plain(job.spec.prompt)})
    facts = [settings_line(locale, job)]
    if job.status is _S.QUEUED and job.queue_position:
        facts.append(t(locale, "slack.status.queue", position=job.queue_position))
    if job.eta is not None and job.status.active:
        facts.append(t(locale, "slack.status.ready_at", when=mrkdwn.date(job.eta)))
    facts.append(cost_text(locale, job))
    facts.append(t(locale, "slack.status.job", job=job.id))
    blocks.append(_context(facts))
    if job.status in (_S.FAILED, _S.EXPIRED, _S.DELIVERY_FAILED):
        blocks.append({"type": "section", "text": _plain(failure_reason(locale, job))})
    if job.status is _S.DELIVERED:
        blocks.append(_context([t(locale, "slack.status.in_thread")]))
    elements: list[Json] = []
    if job.status.active:
        elements.append(button(locale, ACTION_CANCEL, job.id, style="danger"))
    elif job.status is _S.DELIVERED:
        elements += [
            button(locale, ACTION_REGENERATE, job.id, style="primary"),
            button(locale, ACTION_SHOW, job.id),
        ]
        if extendable(job):
            elements.append(button(locale, ACTION_EXTEND, job.id))
    elif job.status.final or job.status in _FINISHED_WITHOUT_VIDEO:
        elements.append(button(locale, ACTION_REGENERATE, job.id))
    blocks += _actions(job.id, elements)
    return t(locale, "slack.status.fallback", state=title, job=job.id), blocks


def result_link(job: JobView, locale: str) -> tuple[str, list[Json]]:
    """The result without a file: the download link (a URL button: no mrkdwn parsing of a
    signed URL) with its expiry, or the news that no link is left."""
    who = mrkdwn.mention(job.chat.user)
    if not job.video_url:
        text = t(locale, "slack.result.no_link", mention=who, job=job.id)
        return text, [_section(text)]
    text = t(locale, "slack.result.link", mention=who, job=job.id)
    blocks = [_section(text)]
    if job.video_url_expires_at is not None:
        when = mrkdwn.date(job.video_url_expires_at)
        blocks.append(_context([t(locale, "slack.result.expires", when=when)]))
    download = {
        "type": "button",
        "action_id": ACTION_DOWNLOAD,
        "text": {"type": "plain_text", "text": t(locale, "slack.button.download")},
        "url": job.video_url,
        "value": str(job.id),
    }
    blocks += _actions(job.id, [download])
    return text, blocks


def result_comment(job: JobView, locale: str) -> str:
    """The text that goes with the shared MP4 (``initial_comment``)."""
    return t(locale, "slack.result.ready", mention=mrkdwn.mention(job.chat.user), job=job.id)


def failure_message(job: JobView, locale: str) -> tuple[str, list[Json]]:
    title = state(locale, job.status)
    head = t(
        locale, "slack.failure.head", mention=mrkdwn.mention(job.chat.user), state=title, job=job.id
    )
    blocks = [
        _section(head),
        {"type": "section", "text": _plain(failure_reason(locale, job))},
        _context([settings_line(locale, job)]),
        *_actions(job.id, [button(locale, ACTION_REGENERATE, job.id)]),
    ]
    return head, blocks


def show_again(job: JobView, locale: str) -> tuple[str, list[Json]]:
    """A private copy of a job's details (for its requester or whoever clicked)."""
    title = f"*{state(locale, job.status)}* · {t(locale, 'slack.status.job', job=job.id)}"
    blocks: list[Json] = [_section(title)]
    if job.spec.prompt:
        blocks.append({"type": "section", "text": _plain(job.spec.prompt)})
    if job.actual_prompt and job.actual_prompt != job.spec.prompt:
        rewritten = t(locale, "slack.show.rewritten", prompt=job.actual_prompt)
        blocks.append({"type": "section", "text": _plain(rewritten)})
    seed = job.seed_used if job.seed_used is not None else job.spec.seed
    facts = [settings_line(locale, job), cost_text(locale, job)]
    facts.append(t(locale, "slack.show.seed", seed=seed if seed is not None else "—"))
    blocks.append(_context(facts))
    if job.video_url and job.video_url_expires_at is not None:
        blocks += result_link(job, locale)[1][1:]  # the expiry and the download button
    return t(locale, "slack.status.fallback", state=state(locale, job.status), job=job.id), blocks


def jobs_list(jobs: list[JobView], locale: str) -> tuple[str, list[Json]]:
    title = t(locale, "slack.jobs.title")
    if not jobs:
        return title, [_section(f"*{title}*"), _section(t(locale, "slack.jobs.none"))]
    lines: list[str] = []
    for job in jobs:
        prompt = mrkdwn.safe(" ".join((job.spec.prompt or job.spec.template or "").split()), 60)
        when = mrkdwn.date(job.created_at)
        line = f"#{job.id} {state(locale, job.status)} · {when} · {prompt}"
        if sum(len(x) + 1 for x in lines) + len(line) > SECTION_MAX:
            break  # whole lines only: a cut could split a <!date…> sequence
        lines.append(line)
    body = "\n".join(lines)
    return title, [_section(f"*{title}*"), _section(body), _context([t(locale, "slack.jobs.hint")])]
