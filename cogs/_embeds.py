"""Everything the user reads about a job: status, result and failure messages (no I/O here).

Words come from the catalogs in the job's locale (``ChatRef.locale``, the requester's Discord
language). User text (prompts) is escaped for markdown and mentions and truncated to Discord's
limits; the client-wide ``AllowedMentions.none()`` stays the real guard against pings.
"""

from __future__ import annotations

import re

import discord

from cogs._words import N_, job_error, rel, say, seconds
from core.domain.catalog import CURRENCY, Model, Region, find_model
from core.domain.jobs import JobStatus, JobView
from core.domain.ledger import ChargeState, Money, charge_of

#: put in every result / failure embed footer so ``find_posted`` can recognise our own post
#: (a machine marker: the same in every language)
MARKER = "animate job #{id}"
_MARKER_RX = re.compile(r"animate job #(\d+)")

STATE_KEYS: dict[JobStatus, str] = {
    JobStatus.QUEUED: N_("status.queued"),
    JobStatus.SUBMITTING: N_("status.submitting"),
    JobStatus.SUBMIT_UNKNOWN: N_("status.submit_unknown"),
    JobStatus.PENDING: N_("status.pending"),
    JobStatus.RUNNING: N_("status.running"),
    JobStatus.SUCCEEDED: N_("status.succeeded"),
    JobStatus.DOWNLOADED: N_("status.downloaded"),
    JobStatus.DELIVERED: N_("status.delivered"),
    JobStatus.FAILED: N_("status.failed"),
    JobStatus.CANCELED: N_("status.canceled"),
    JobStatus.EXPIRED: N_("status.expired"),
    JobStatus.DELIVERY_FAILED: N_("status.delivery_failed"),
}
_COLOUR = {
    JobStatus.DELIVERED: discord.Colour.green(),
    JobStatus.FAILED: discord.Colour.red(),
    JobStatus.CANCELED: discord.Colour.dark_grey(),
    JobStatus.EXPIRED: discord.Colour.dark_grey(),
    JobStatus.DELIVERY_FAILED: discord.Colour.orange(),
}
_SUBJECT = {
    "prompt": N_("subject.prompt"),
    "negative_prompt": N_("subject.negative_prompt"),
    "image": N_("subject.image"),
    "audio": N_("subject.audio"),
    "clip": N_("subject.clip"),
    "output": N_("subject.output"),
}


def state(locale: str | None, status: JobStatus) -> str:
    return say(locale, STATE_KEYS[status])


def clean(text: str | None, limit: int) -> str:
    """Escape markdown and mentions; truncate with an ellipsis to ``limit`` characters."""
    if not text:
        return ""
    safe = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def money(amount: float, currency: str) -> str:
    return str(Money(amount, currency))


def price_hint(model: Model, region: Region, locale: str | None = None) -> str:
    """``from ¥0.15/s`` — the cheapest per-second price of the model in this region."""
    prices = [
        p for table in (model.price, model.silent_price) for p in table.get(region, {}).values()
    ]
    if not prices:
        return say(locale, "price.unknown")
    return say(locale, "price.from", price=money(min(prices), CURRENCY[region]))


def model_label(model_id: str) -> str:
    model = find_model(model_id)
    return model.label if model else model_id


def settings_line(job: JobView, locale: str | None) -> str:
    spec = job.spec
    parts = [model_label(spec.model), spec.resolution, seconds(locale, spec.duration)]
    if spec.template:
        parts.append(say(locale, "settings.effect", effect=spec.template))
    if spec.aspect != "original":
        fill = say(locale, f"choice.fill.{spec.fill}") if spec.fill in ("crop", "blur") else ""
        parts.append(say(locale, "settings.aspect", aspect=spec.aspect, fill=fill))
    if not spec.sound:
        parts.append(say(locale, "settings.silent"))
    return " · ".join(parts)


def _price_unknown(job: JobView) -> bool:
    """No published price and none from the operator (Wan 3.0); a job recorded before prices
    were kept on the row has its estimate, so it is known."""
    return not job.price_known and not job.cost_estimate


def cost_field(job: JobView, locale: str | None) -> tuple[str, str]:
    """The money line of a job: reserved estimate, billed cost, or the refund."""
    charge = charge_of(job)
    if charge.state is ChargeState.BILLED:
        if job.cost is None and _price_unknown(job):  # billed at a price nobody published
            return say(locale, "field.cost"), say(locale, "price.unknown_status")
        return say(locale, "field.cost"), money(charge.money, job.currency)
    if charge.state is ChargeState.RESERVED:
        if _price_unknown(job):
            return say(locale, "field.estimated_cost"), say(locale, "price.unknown_status")
        return say(locale, "field.estimated_cost"), money(job.cost_estimate, job.currency)
    return say(locale, "field.refunded"), say(
        locale, "charge.refunded", amount=money(job.cost_estimate, job.currency)
    )


def status_embed(job: JobView, *, thumbnail: str | None = None) -> discord.Embed:
    loc = job.chat.locale
    embed = discord.Embed(
        title=state(loc, job.status),
        colour=_COLOUR.get(job.status, discord.Colour.blurple()),
    )
    if job.spec.prompt:
        embed.description = clean(job.spec.prompt, 1000)
    embed.add_field(name=say(loc, "field.settings"), value=settings_line(job, loc), inline=False)
    if job.status is JobStatus.QUEUED and job.queue_position:
        if job.starts_at is not None:
            place = say(loc, "status.queue_place", place=job.queue_position, starts=job.starts_at)
        else:
            place = say(loc, "status.queue_next", place=job.queue_position)
        embed.add_field(name=say(loc, "field.queue"), value=place)
    if job.eta is not None and job.status.active:
        embed.add_field(name=say(loc, "field.ready"), value=say(loc, "status.ready", eta=job.eta))
    name, value = cost_field(job, loc)
    embed.add_field(name=name, value=value)
    if job.clip_seconds is not None:  # a continuation: DashScope bills the clip again
        embed.add_field(
            name=say(loc, "field.billing"),
            value=say(
                loc, "status.bills_whole", total=job.spec.duration, clip=round(job.clip_seconds, 1)
            ),
            inline=False,
        )
    if job.status in (JobStatus.FAILED, JobStatus.EXPIRED) and job.error_message:
        embed.add_field(
            name=say(loc, "field.why"), value=clean(job_error(loc, job), 1000), inline=False
        )
    if thumbnail:
        embed.set_thumbnail(url=thumbnail)
    embed.set_footer(text=say(loc, "status.footer", job=job.id))
    return embed


def result_embed(job: JobView, *, link_note: str | None = None) -> discord.Embed:
    loc, spec = job.chat.locale, job.spec
    embed = discord.Embed(title=say(loc, "result.title"), colour=discord.Colour.green())
    if link_note:
        embed.description = link_note
    embed.add_field(name=say(loc, "field.model"), value=model_label(spec.model))
    embed.add_field(name=say(loc, "field.resolution"), value=spec.resolution)
    embed.add_field(name=say(loc, "field.duration"), value=seconds(loc, spec.duration))
    seed = job.seed_used if job.seed_used is not None else spec.seed
    embed.add_field(
        name=say(loc, "field.seed"),
        value=str(seed) if seed is not None else say(loc, "result.random"),
    )
    name, value = cost_field(job, loc)
    embed.add_field(name=name, value=value)
    if spec.template:
        embed.add_field(name=say(loc, "field.effect"), value=spec.template)
    if spec.prompt:
        embed.add_field(name=say(loc, "field.prompt"), value=clean(spec.prompt, 1000), inline=False)
    if job.actual_prompt and job.actual_prompt != spec.prompt:
        embed.add_field(
            name=say(loc, "field.rewritten_prompt"),
            value=clean(job.actual_prompt, 1000),
            inline=False,
        )
    embed.set_footer(text=MARKER.format(id=job.id))
    return embed


def link_note(job: JobView) -> str:
    loc = job.chat.locale
    if not job.video_url:
        return say(loc, "result.no_link")
    if job.video_url_expires_at:
        return say(loc, "result.link_expiring", url=job.video_url, when=job.video_url_expires_at)
    return say(loc, "result.link", url=job.video_url)


def failure_advice(job: JobView) -> str:
    """What happened, and what to change (the error in the reader's language, a hint by kind,
    and the refund)."""
    loc = job.chat.locale
    code = (job.error_code or "").lower()
    subject_key = _SUBJECT.get(job.error_subject or "")
    subject = say(loc, subject_key) if subject_key else ""
    refund = ""
    if charge_of(job).state is ChargeState.REFUNDED and job.cost_estimate > 0:
        refund = "\n" + say(loc, "failure.refunded", amount=money(job.cost_estimate, job.currency))
    if job.status is JobStatus.CANCELED:
        return say(loc, "failure.canceled") + refund
    if job.status is JobStatus.EXPIRED:
        why = job_error(loc, job) or say(loc, "failure.expired")
        return f"{why} {say(loc, 'failure.regenerate')}" + refund
    base = job_error(loc, job) or say(loc, "failure.default")
    if "moderation" in code or "datainspection" in code or "inappropriate" in code:
        what = subject or say(loc, "subject.input")
        hint = say(loc, "advice.moderation", what=what)
    elif "quota" in code or "arrearage" in code or "allocation" in code:
        hint = say(loc, "advice.quota")
    elif "busy" in code or "rate" in code or "throttl" in code:
        hint = say(loc, "advice.busy")
    elif "invalid" in code and subject:
        hint = say(loc, "advice.invalid", subject=subject)
    elif "auth" in code or "permission" in code or "config" in code:
        hint = say(loc, "advice.config")
    else:
        hint = say(loc, "advice.default")
    return f"{base}\n{hint}{refund}"


def failure_embed(job: JobView) -> discord.Embed:
    loc = job.chat.locale
    embed = discord.Embed(
        title=state(loc, job.status),
        description=clean(failure_advice(job), 2000).replace("\\*\\*", "**"),
        colour=_COLOUR.get(job.status, discord.Colour.red()),
    )
    embed.add_field(name=say(loc, "field.settings"), value=settings_line(job, loc), inline=False)
    embed.set_footer(text=MARKER.format(id=job.id))
    return embed


def marked_job(text: str | None) -> int | None:
    match = _MARKER_RX.search(text or "")
    return int(match.group(1)) if match else None


def jump_url(job: JobView) -> str | None:
    message = job.posted_message_id or job.chat.status_message
    if message is None:
        return None
    channel = job.chat.thread if job.posted_message_id and job.chat.thread else job.chat.channel
    return f"https://discord.com/channels/{job.chat.guild or '@me'}/{channel}/{message}"


def jobs_list(jobs: list[JobView], locale: str | None) -> discord.Embed:
    embed = discord.Embed(title=say(locale, "jobs.title"), colour=discord.Colour.blurple())
    if not jobs:
        embed.description = say(locale, "jobs.empty")
        return embed
    lines = []
    for job in jobs:
        link = jump_url(job)
        name = f"[#{job.id}]({link})" if link else f"#{job.id}"
        prompt = clean(job.spec.prompt or job.spec.template or "", 60)
        lines.append(f"{name} {state(locale, job.status)} · {rel(job.created_at)} · {prompt}")
    embed.description = "\n".join(lines)
    embed.set_footer(text=say(locale, "jobs.footer"))
    return embed
