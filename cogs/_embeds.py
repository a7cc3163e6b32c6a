"""Everything the user reads: status, result and failure messages (no I/O here).

User text (prompts) is escaped for markdown and mentions and truncated to Discord's limits;
the client-wide ``AllowedMentions.none()`` stays the real guard against pings.
"""

from __future__ import annotations

import re
from datetime import datetime

import discord

from core.domain.catalog import CURRENCY, Model, Region, find_model
from core.domain.jobs import JobStatus, JobView

#: put in every result / failure embed footer so ``find_posted`` can recognise our own post
MARKER = "animate job #{id}"
_MARKER_RX = re.compile(r"animate job #(\d+)")
_SYMBOL = {"CNY": "¥", "USD": "$"}

STATE_TEXT: dict[JobStatus, str] = {
    JobStatus.QUEUED: "⏳ Queued",
    JobStatus.SUBMITTING: "📤 Sending to the video service",
    JobStatus.SUBMIT_UNKNOWN: "🔎 Checking whether the video service got the job",
    JobStatus.PENDING: "⏳ Waiting at the video service",
    JobStatus.RUNNING: "🎬 Generating",
    JobStatus.SUCCEEDED: "📥 Fetching the video",
    JobStatus.DOWNLOADED: "📦 Uploading the video",
    JobStatus.DELIVERED: "✅ Done",
    JobStatus.FAILED: "❌ Failed",
    JobStatus.CANCELED: "🚫 Canceled",
    JobStatus.EXPIRED: "⌛ Expired",
    JobStatus.DELIVERY_FAILED: "⚠️ Could not post the result",
}
_COLOUR = {
    JobStatus.DELIVERED: discord.Colour.green(),
    JobStatus.FAILED: discord.Colour.red(),
    JobStatus.CANCELED: discord.Colour.dark_grey(),
    JobStatus.EXPIRED: discord.Colour.dark_grey(),
    JobStatus.DELIVERY_FAILED: discord.Colour.orange(),
}


def clean(text: str | None, limit: int) -> str:
    """Escape markdown and mentions; truncate with an ellipsis to ``limit`` characters."""
    if not text:
        return ""
    safe = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def rel(when: datetime) -> str:
    """A Discord relative timestamp ("in 3 minutes"), rendered in each reader's time zone."""
    return f"<t:{int(when.timestamp())}:R>"


def money(amount: float, currency: str) -> str:
    symbol = _SYMBOL.get(currency)
    return f"{symbol}{amount:.2f}" if symbol else f"{amount:.2f} {currency}"


def price_hint(model: Model, region: Region) -> str:
    """``from ¥0.15/s`` — the cheapest per-second price of the model in this region."""
    prices = [
        p for table in (model.price, model.silent_price) for p in table.get(region, {}).values()
    ]
    if not prices:
        return "price unknown"
    return f"from {money(min(prices), CURRENCY[region])}/s"


def model_label(model_id: str) -> str:
    model = find_model(model_id)
    return model.label if model else model_id


def _settings_line(job: JobView) -> str:
    spec = job.spec
    parts = [model_label(spec.model), spec.resolution, f"{spec.duration} s"]
    if spec.template:
        parts.append(f"effect {spec.template}")
    if spec.aspect != "original":
        parts.append(f"{spec.aspect} ({spec.fill})")
    if not spec.sound:
        parts.append("silent")
    return " · ".join(parts)


def status_embed(job: JobView, *, thumbnail: str | None = None) -> discord.Embed:
    embed = discord.Embed(
        title=STATE_TEXT.get(job.status, str(job.status)),
        colour=_COLOUR.get(job.status, discord.Colour.blurple()),
    )
    if job.spec.prompt:
        embed.description = clean(job.spec.prompt, 1000)
    embed.add_field(name="Settings", value=_settings_line(job), inline=False)
    if job.status is JobStatus.QUEUED and job.queue_position:
        embed.add_field(name="Queue", value=f"#{job.queue_position}")
    if job.eta is not None and job.status.active:
        embed.add_field(name="Ready", value=f"about {rel(job.eta)}")
    cost = job.cost if job.cost is not None else job.cost_estimate
    label = "Cost" if job.cost is not None else "Estimated cost"
    embed.add_field(name=label, value=money(cost, job.currency))
    if job.error_message and job.status in (JobStatus.FAILED, JobStatus.EXPIRED):
        embed.add_field(name="Why", value=clean(job.error_message, 1000), inline=False)
    if thumbnail:
        embed.set_thumbnail(url=thumbnail)
    embed.set_footer(text=f"Job #{job.id}")
    return embed


def result_embed(job: JobView, *, link_note: str | None = None) -> discord.Embed:
    spec = job.spec
    embed = discord.Embed(title="✅ Your video is ready", colour=discord.Colour.green())
    if link_note:
        embed.description = link_note
    embed.add_field(name="Model", value=model_label(spec.model))
    embed.add_field(name="Resolution", value=spec.resolution)
    embed.add_field(name="Duration", value=f"{spec.duration} s")
    seed = job.seed_used if job.seed_used is not None else spec.seed
    embed.add_field(name="Seed", value=str(seed) if seed is not None else "random")
    cost = job.cost if job.cost is not None else job.cost_estimate
    embed.add_field(name="Cost", value=money(cost, job.currency))
    if spec.template:
        embed.add_field(name="Effect", value=spec.template)
    if spec.prompt:
        embed.add_field(name="Prompt", value=clean(spec.prompt, 1000), inline=False)
    if job.actual_prompt and job.actual_prompt != spec.prompt:
        embed.add_field(name="Rewritten prompt", value=clean(job.actual_prompt, 1000), inline=False)
    embed.set_footer(text=MARKER.format(id=job.id))
    return embed


def link_note(job: JobView) -> str:
    if not job.video_url:
        return "The video is too large to upload here and no download link is available."
    when = f" The link expires {rel(job.video_url_expires_at)}." if job.video_url_expires_at else ""
    return f"Too large to upload here: [download the video]({job.video_url}).{when}"


_SUBJECT = {"prompt": "prompt", "negative_prompt": "negative prompt", "image": "image",
            "audio": "audio file", "output": "generated video"}  # fmt: skip


def failure_advice(job: JobView) -> str:
    """What happened, and what to change (the user-safe message plus a hint by error kind)."""
    code = (job.error_code or "").lower()
    subject = _SUBJECT.get(job.error_subject or "", "")
    if job.status is JobStatus.CANCELED:
        return "The job was canceled; nothing more will be charged for it."
    if job.status is JobStatus.EXPIRED:
        return (job.error_message or "The result expired before it could be fetched.") + (
            " Use **Regenerate** to make it again."
        )
    base = job.error_message or "The video could not be made."
    if "moderation" in code or "datainspection" in code or "inappropriate" in code:
        what = subject or "input"
        hint = f"The content check rejected the **{what}**. Change the {what} and try again."
    elif "quota" in code or "arrearage" in code or "allocation" in code:
        hint = "The bot's video quota is used up; ask an admin to top it up."
    elif "busy" in code or "rate" in code or "throttl" in code:
        hint = "The video service is busy right now; try again in a few minutes."
    elif "invalid" in code and subject:
        hint = f"The **{subject}** was not accepted; try a different one."
    elif "auth" in code or "permission" in code or "config" in code:
        hint = "The bot is misconfigured; an admin has to check its DashScope key."
    else:
        hint = "Try again, or change the settings."
    return f"{base}\n{hint}"


def failure_embed(job: JobView) -> discord.Embed:
    embed = discord.Embed(
        title=STATE_TEXT.get(job.status, "❌ Failed"),
        description=clean(failure_advice(job), 2000).replace("\\*\\*", "**"),
        colour=_COLOUR.get(job.status, discord.Colour.red()),
    )
    embed.add_field(name="Settings", value=_settings_line(job), inline=False)
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


def jobs_list(jobs: list[JobView]) -> discord.Embed:
    embed = discord.Embed(title="Your recent animations", colour=discord.Colour.blurple())
    if not jobs:
        embed.description = "No jobs yet. Start one with `/animate`."
        return embed
    lines = []
    for job in jobs:
        link = jump_url(job)
        name = f"[#{job.id}]({link})" if link else f"#{job.id}"
        prompt = clean(job.spec.prompt or job.spec.template or "", 60)
        lines.append(
            f"{name} {STATE_TEXT.get(job.status, job.status)} · {rel(job.created_at)} · {prompt}"
        )
    embed.description = "\n".join(lines)
    embed.set_footer(text="Show one again with /animate-jobs job:<id>")
    return embed
