from __future__ import annotations

import pytest

from core.domain.catalog import (
    EFFECTS,
    MODELS,
    AudioMode,
    Protocol,
    Region,
    find_model,
    models_for_effect,
    models_in,
    output_size,
)

ISSUE_MODELS = {
    "wan2.5-i2v-preview",
    "wan2.2-i2v-flash",
    "wan2.2-i2v-plus",
    "wanx2.1-i2v-plus",
    "wanx2.1-i2v-turbo",
    "wan2.6-i2v",
    "wan2.6-i2v-flash",
    "wan2.7-i2v",
}


def test_every_model_of_the_reference_is_listed() -> None:
    assert set(MODELS) == ISSUE_MODELS


@pytest.mark.parametrize("model", list(MODELS.values()), ids=lambda m: m.id)
def test_rows_are_self_consistent(model: object) -> None:
    from core.domain.catalog import Model

    assert isinstance(model, Model)
    assert model.default_resolution in model.resolutions
    assert model.default_duration in model.durations
    assert set(model.effects) <= set(EFFECTS)
    for region in model.region_ids:
        for res in model.price.get(region, {}):
            assert res in model.resolutions
    if model.audio is AudioMode.OPTIONAL:
        assert model.silent_price
    assert model.concurrency in (2, 5)
    assert model.fps == 30


def test_singapore_drops_the_x() -> None:
    assert find_model("wan2.1-i2v-plus") is MODELS["wanx2.1-i2v-plus"]
    assert MODELS["wanx2.1-i2v-turbo"].wire_id(Region.SINGAPORE) == "wan2.1-i2v-turbo"
    assert MODELS["wanx2.1-i2v-turbo"].wire_id(Region.BEIJING) == "wanx2.1-i2v-turbo"
    assert find_model("nope") is None


def test_effects_per_model() -> None:
    assert len(EFFECTS) == 26  # the reference's first-frame table (§13)
    assert {m.id for m in models_for_effect("flying")} == {"wanx2.1-i2v-plus", "wanx2.1-i2v-turbo"}
    assert {m.id for m in models_for_effect("dance1")} == {"wanx2.1-i2v-plus"}
    assert EFFECTS["flying"].zh == "魔法悬浮"


def test_prices_and_limits() -> None:
    flash = MODELS["wan2.6-i2v-flash"]
    assert flash.cost(Region.BEIJING, "720P", 10) == pytest.approx(3.0)
    assert flash.cost(Region.BEIJING, "720P", 10, sound=False) == pytest.approx(1.5)
    assert MODELS["wan2.2-i2v-flash"].unit_price(Region.SINGAPORE, "1080P") is None
    assert MODELS["wan2.7-i2v"].protocol is Protocol.MEDIA
    assert MODELS["wan2.2-i2v-plus"].prompt_max == 800
    assert MODELS["wan2.6-i2v"].image.max_bytes == 20 * 1024 * 1024
    assert MODELS["wanx2.1-i2v-turbo"].durations == (3, 4, 5)
    assert all(m.available_in(Region.SINGAPORE) for m in models_in(Region.SINGAPORE))


def test_output_size_matches_the_documented_example() -> None:
    assert output_size(750, 1000, "720P") == (816, 1104)
    w, h = output_size(1920, 1080, "1080P")
    assert (w % 16, h % 16) == (0, 0)
    assert abs(w * h - 1920 * 1080) / (1920 * 1080) < 0.02
