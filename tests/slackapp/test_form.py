"""The modal: valid for Slack for every model, round trips, and errors on the right input."""

from __future__ import annotations

import json

import pytest

from core.domain.catalog import AudioMode, Region, first_frame_models
from slackapp import form
from tests.fakeslack._blocks import check_view

ORIGIN = form.Origin("C1", "en-US")


@pytest.mark.parametrize("region", list(Region))
def test_the_modal_of_every_model_is_valid_for_slack(region: Region) -> None:
    for model in first_frame_models(region):
        built = form.build(ORIGIN, region, model_id=model.id, prompt="x" * 5000)
        check_view(built)  # title ≤ 24, options ≤ 100 and ≤ 75 characters, metadata ≤ 3000 …
        inputs = {b["block_id"]: b for b in built["blocks"] if b["type"] == "input"}
        resolutions = inputs[f"resolution.{model.id}"]["element"]["options"]
        assert [o["value"] for o in resolutions] == list(model.resolutions)
        durations = inputs[f"duration.{model.id}"]["element"]["options"]
        assert [int(o["value"]) for o in durations] == list(model.durations)
        assert (f"sound.{model.id}" in inputs) == (model.audio is AudioMode.OPTIONAL)
        assert len(inputs["prompt"]["element"]["initial_value"]) == form.PROMPT_MAX
        assert inputs["model"]["dispatch_action"] is True


def test_the_origin_survives_private_metadata() -> None:
    source = form.SourceFile("F1", "cat <b>.png", 1234, "https://files.slack.com/x")
    origin = form.Origin("C1", "zh-CN", thread="1.2", source=source)
    assert form.Origin.load(origin.dump()) == origin
    with pytest.raises(ValueError, match="3000"):
        form.Origin("C1", "en", source=form.SourceFile("F", "n" * 3000, 1, "u")).dump()
    shortcut = form.build(origin, Region.BEIJING)
    assert not any(b.get("block_id") == form.IMAGE for b in shortcut["blocks"])
    assert json.loads(shortcut["private_metadata"])["t"] == "1.2"
    assert "cat &lt;b&gt;.png" in str(shortcut["blocks"][0])


def test_a_rebuilt_modal_keeps_only_choices_the_new_model_allows() -> None:
    chosen = {"resolution": "480P", "duration": "10", "aspect": "9:16", "fill": "blur"}
    built = form.build(ORIGIN, Region.BEIJING, model_id="wan2.6-i2v-flash", chosen=chosen)
    inputs = {b["block_id"]: b["element"] for b in built["blocks"] if b["type"] == "input"}
    # 480P is not made by this model: its default instead, never an empty required select
    assert inputs["resolution.wan2.6-i2v-flash"]["initial_option"]["value"] == "1080P"
    assert inputs["duration.wan2.6-i2v-flash"]["initial_option"]["value"] == "10"
    assert inputs["aspect"]["initial_option"]["value"] == "9:16"
    assert inputs["fill"]["initial_option"]["value"] == "blur"


def test_the_modal_speaks_the_users_language() -> None:
    built = form.build(form.Origin("C1", "zh-CN"), Region.BEIJING)
    assert built["title"]["text"] == "图生视频" and built["submit"]["text"] == "生成"
    labels = [b["label"]["text"] for b in built["blocks"] if b["type"] == "input"]
    assert labels[:3] == ["图片", "视频里会发生什么？", "模型"]
