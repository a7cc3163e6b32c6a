"""Saying things on Discord: parameters in Discord's forms, errors and jobs in the reader's
language, English when the reader's language has no catalog or the key is unknown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cogs._words import error_message, job_error, say, show
from core.domain.catalog import Region
from core.domain.errors import ValidationError
from core.domain.jobs import JobSpec
from core.domain.ledger import Money
from core.domain.policy import Refs
from core.domain.quota import over_daily_seconds
from core.domain.validation import validate_spec
from tests.cogs.test_embeds import job

WHEN = datetime(2026, 1, 2, tzinfo=UTC)


def test_parameters_take_discords_forms() -> None:
    assert show(WHEN) == f"<t:{int(WHEN.timestamp())}:R>"
    assert show(Money(1.5, "CNY")) == "¥1.50"
    assert show(Refs("channel", ("1", "2"))) == "<#1>, <#2>"
    assert show(Refs("role", ("3",))) == "<@&3>"
    assert (show(5.0), show(2.345), show("x")) == (5, 2.35, "x")


def test_a_refusal_in_both_languages_with_a_relative_reset() -> None:
    error = over_daily_seconds(used=5, limit=5, need=5, resets=WHEN)
    stamp = f"<t:{int(WHEN.timestamp())}:R>"
    assert error_message("en-US", error) == (
        "That would go over your daily allowance: you have used 5 of your 5 video-seconds "
        f"today and this video needs 5. The allowance resets {stamp}; nothing was spent."
    )
    assert error_message("zh-CN", error) == (
        "这会超出你的每日额度：今天你已用了 5 秒（额度 5 视频秒），这个视频还需要 5 秒。"
        f"额度将在{stamp}重置；没有产生任何费用。"
    )
    assert error_message("pt-BR", error) == error_message("en-US", error)


def test_a_stored_job_error_is_said_from_its_key_or_kept_in_english() -> None:
    failed = job(error_key="task.failed", error_message="stored English")
    assert job_error("zh-CN", failed).startswith("阿里云百炼没能生成这个视频")
    old = job(error_key="gone.key", error_message="stored English")
    assert job_error("zh-CN", old) == "stored English"
    assert job_error("zh-CN", job(error_message="no key at all")) == "no key at all"
    assert say("zh-CN", "unit.seconds", n=5) == "5 秒"


def test_media_combinations_are_said_in_the_readers_language() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_spec(
            JobSpec(model="wan2.7-i2v", prompt="p", resolution="", duration=0),
            Region.BEIJING,
            clip=True,
            audio=True,
            image=False,
        )
    error = caught.value
    assert error.key == "media.combination"
    assert error.params["given"] == "clip + audio"  # stored and logged in English
    zh = error_message("zh-CN", error)
    assert "续写视频 + 音频" in zh
    assert (
        "图片；图片 + 音频；图片 + 尾帧图片；图片 + 尾帧图片 + 音频；续写视频；续写视频 + 尾帧图片"
        in zh
    )
    assert "it takes: image; image + audio;" in error_message("en-US", error)
