"""What users read: escaping, failure advice, links with expiry, price hints."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from cogs import _embeds
from core.domain.catalog import MODELS, Region
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def job(**changes: object) -> JobView:
    base = JobView(
        id=7,
        status=JobStatus.FAILED,
        spec=JobSpec(model="wan2.6-i2v-flash", prompt="p", resolution="720P", duration=5),
        chat=ChatRef(platform="discord", user="1", channel="2", guild="3", thread="4"),
        created_at=T0,
        updated_at=T0,
    )
    return _replace(base, changes)


def _replace(view: JobView, changes: dict[str, object]) -> JobView:
    from dataclasses import replace

    return replace(view, **changes)  # type: ignore[arg-type]  # test helper with known fields


def test_clean_neutralises_mentions_and_markdown() -> None:
    out = _embeds.clean("@everyone **bold** <@&1>", 100)
    assert "@everyone" not in out and "@\u200beveryone" in out
    assert "\\*\\*bold\\*\\*" in out


def test_clean_truncates_to_the_limit() -> None:
    out = _embeds.clean("x" * 50, 10)
    assert len(out) == 10 and out.endswith("…")


def test_moderation_advice_names_the_input() -> None:
    text = _embeds.failure_advice(
        job(error_code="moderation", error_subject="image", error_message="Rejected.")
    )
    assert "Rejected." in text and "**image**" in text and "Change the image" in text


def test_quota_and_busy_advice() -> None:
    assert "quota" in _embeds.failure_advice(job(error_code="quota"))
    assert "busy" in _embeds.failure_advice(job(error_code="busy"))


def test_canceled_and_expired_say_what_happened() -> None:
    assert "canceled" in _embeds.failure_advice(job(status=JobStatus.CANCELED))
    assert "Regenerate" in _embeds.failure_advice(job(status=JobStatus.EXPIRED))


def test_link_note_states_the_expiry_as_a_relative_timestamp() -> None:
    expires = T0 + timedelta(hours=24)
    note = _embeds.link_note(job(video_url="https://x.example/v.mp4", video_url_expires_at=expires))
    assert f"<t:{int(expires.timestamp())}:R>" in note and "https://x.example/v.mp4" in note


def test_price_hint_uses_the_region_currency() -> None:
    flash = MODELS["wan2.6-i2v-flash"]
    assert _embeds.price_hint(flash, Region.BEIJING) == "from ¥0.15/s"
    assert _embeds.price_hint(flash, Region.SINGAPORE) == "from $0.03/s"


def test_result_embed_carries_the_marker_and_the_rewritten_prompt() -> None:
    embed = _embeds.result_embed(
        job(status=JobStatus.DOWNLOADED, actual_prompt="longer", seed_used=5)
    )
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Rewritten prompt"] == "longer" and fields["Seed"] == "5"
    assert _embeds.marked_job(embed.footer.text) == 7


def test_status_embed_eta_is_relative() -> None:
    eta = T0 + timedelta(minutes=3)
    embed = _embeds.status_embed(job(status=JobStatus.RUNNING, eta=eta))
    assert any(f"<t:{int(eta.timestamp())}:R>" in f.value for f in embed.fields if f.value)


def test_the_money_line_follows_the_charge() -> None:
    def money(view: JobView) -> tuple[str, str]:
        return _embeds.cost_field(view, view.chat.locale)

    waiting = job(status=JobStatus.QUEUED, cost_estimate=2.5)
    assert money(waiting) == ("Estimated cost", "¥2.50")
    made = job(status=JobStatus.DELIVERED, cost_estimate=2.5, cost=2.0, video_url="u")
    assert money(made) == ("Cost", "¥2.00")
    gone = job(status=JobStatus.FAILED, cost_estimate=2.5, error_message="x")
    assert money(gone) == ("Refunded", "¥2.50 returned; nothing was billed")
    chinese = dataclasses.replace(gone, chat=dataclasses.replace(gone.chat, locale="zh-CN"))
    assert money(chinese) == ("已退款", "已退回 ¥2.50，未产生费用")


def test_a_failure_notice_says_the_refund_in_the_readers_language() -> None:
    gone = job(
        cost_estimate=2.5,
        error_key="moderation.image",
        error_code="DataInspectionFailed",
        error_subject="image",
        error_message="DashScope's content check rejected the image. Try a different image.",
    )
    assert _embeds.failure_advice(gone).endswith(
        "💸 Refunded automatically: the ¥2.50 held for this video is back in the budget "
        "(DashScope bills nothing for it)."
    )
    zh = _embeds.failure_advice(
        dataclasses.replace(gone, chat=dataclasses.replace(gone.chat, locale="zh-CN"))
    )
    assert zh.splitlines() == [
        "阿里云百炼的内容审核未通过该图片，请换一张图片。",
        "内容审核未通过**图片**。请修改图片后重试。",
        "💸 已自动退款：为这个视频预留的 ¥2.50 已退回预算（阿里云百炼不会为此计费）。",
    ]


def test_the_queue_place_and_start_are_shown() -> None:
    starts = T0 + timedelta(minutes=2)
    embed = _embeds.status_embed(
        job(status=JobStatus.QUEUED, queue_position=3, starts_at=starts, error_message=None)
    )
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Queue"] == f"#3 · starts <t:{int(starts.timestamp())}:R>"


def test_the_next_job_to_start_says_so_not_a_start_in_the_past() -> None:
    embed = _embeds.status_embed(
        job(status=JobStatus.QUEUED, queue_position=1, starts_at=None, error_message=None)
    )
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Queue"] == "#1 · next to start"


def test_an_unknown_price_is_said_not_shown_as_zero() -> None:
    wan30 = JobSpec(model="wan3.0-video", prompt="p", resolution="720P", duration=5)
    waiting = job(status=JobStatus.QUEUED, spec=wan30, unit_price=None, cost_estimate=0.0)
    unknown = "unknown: DashScope has not published this model's price yet"
    assert _embeds.cost_field(waiting, "en-US") == ("Estimated cost", unknown)
    assert _embeds.cost_field(waiting, "zh-CN")[1] == "未知：阿里云百炼尚未公布该模型的价格"
    billed = job(status=JobStatus.DELIVERED, spec=wan30, usage_seconds=5.0, cost=None)
    assert _embeds.cost_field(billed, "en-US") == ("Cost", unknown)
    priced = job(status=JobStatus.QUEUED, spec=wan30, unit_price=0.5, cost_estimate=2.5)
    assert _embeds.cost_field(priced, "en-US") == ("Estimated cost", "¥2.50")  # PRICE_OVERRIDES


def test_a_continuation_says_the_whole_output_is_billed() -> None:
    spec = JobSpec(model="wan2.7-i2v", prompt="p", resolution="720P", duration=12)
    view = job(status=JobStatus.QUEUED, spec=spec, clip_seconds=10.0, cost_estimate=7.2)
    shown = {f.name: f.value for f in _embeds.status_embed(view).fields}
    assert shown["Billing"] == (
        "DashScope bills the whole output: 12 s, the 10 s clip it continues included."
    )
    assert shown["Estimated cost"] == "¥7.20"
    zh = _embeds.status_embed(
        _replace(view, {"chat": dataclasses.replace(view.chat, locale="zh-CN")})
    )
    assert "阿里云百炼按整段输出计费：共 12 秒" in str([f.value for f in zh.fields])
    plain = {f.name for f in _embeds.status_embed(job(status=JobStatus.QUEUED)).fields}
    assert "Billing" not in plain
