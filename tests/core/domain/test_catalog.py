from __future__ import annotations

import pytest

from core.domain.catalog import (
    BASE_URLS,
    CURRENCY,
    EFFECTS,
    END_FRAME_VARIANTS,
    MODELS,
    REGIONS,
    AudioMode,
    Family,
    Media,
    Model,
    Region,
    effect_model,
    end_frame_model,
    find_model,
    models_for_effect,
    models_in,
    models_taking,
    output_size,
)
from emulator import catalog as emulator_catalog

ISSUE_MODELS = {
    "wan2.5-i2v-preview",
    "wan2.2-i2v-flash",
    "wan2.2-i2v-plus",
    "wanx2.1-i2v-plus",
    "wanx2.1-i2v-turbo",
    "wan2.6-i2v",
    "wan2.6-i2v-us",
    "wan2.6-i2v-flash",
    "wan2.7-i2v",
    "wan2.2-kf2v-flash",
    "wanx2.1-kf2v-plus",
    "wan3.0-video",
    "wan3.0-video-prime",
}


def test_every_model_of_the_reference_is_listed() -> None:
    assert set(MODELS) == ISSUE_MODELS


@pytest.mark.parametrize("model", list(MODELS.values()), ids=lambda m: m.id)
def test_rows_are_self_consistent(model: Model) -> None:
    assert model.default_resolution in model.resolutions
    assert model.default_duration in model.durations
    assert set(model.effects) <= set(EFFECTS)
    for region in model.region_ids:
        assert model.default_duration in model.durations_in(region)
        for res in model.price.get(region, {}):
            assert res in model.resolutions
    if model.audio is AudioMode.OPTIONAL and model.price:
        assert model.silent_price
    assert model.concurrency in (2, 5)
    assert model.fps == 30
    assert all(Media.FIRST_FRAME in c or Media.CLIP in c for c in model.combinations)


@pytest.mark.parametrize("region", list(Region), ids=str)
def test_each_region_serves_what_the_emulator_serves(region: Region) -> None:
    """Two readings of reference §1.1 made independently (the emulator's own rule table): the
    same models, resolutions and durations per region, and each model on its family's path."""
    theirs = emulator_catalog(region.value)
    ours = {m.wire_id(region): m for m in models_in(region)}
    assert set(ours) <= set(theirs)
    assert {m for m, e in theirs.items() if e.model not in _snapshots()} == set(ours)
    for wire_id, model in ours.items():
        entry = theirs[wire_id]
        assert set(model.resolutions) == set(entry.resolutions), wire_id
        assert set(model.durations_in(region)) == set(entry.durations), wire_id
        assert model.default_resolution == entry.default_resolution, wire_id
        assert (entry.path_task == "image2video") == (model.family is Family.KF2V)


def _snapshots() -> set[str]:
    # dated snapshot ids the emulator also answers; the bot offers the undated id
    return {"wan2.7-i2v-2026-04-25"}


def test_frankfurt_has_wan26_at_5_10_15_and_wan30_only() -> None:
    frankfurt = {m.id for m in models_in(Region.FRANKFURT)}
    assert frankfurt == {"wan2.6-i2v", "wan3.0-video", "wan3.0-video-prime"}
    assert MODELS["wan2.6-i2v"].durations_in(Region.FRANKFURT) == (5, 10, 15)
    assert MODELS["wan2.6-i2v"].durations_in(Region.VIRGINIA) == (5, 10, 15)
    assert MODELS["wan2.6-i2v"].durations_in(Region.BEIJING) == tuple(range(2, 16))
    assert {m.id for m in models_in(Region.TOKYO)} == {"wan3.0-video", "wan3.0-video-prime"}


def test_regions_are_data_with_their_hosts() -> None:
    assert REGIONS[Region.FRANKFURT].shared_url is None
    assert REGIONS[Region.FRANKFURT].base_url("ws-123") == (
        "https://ws-123.eu-central-1.maas.aliyuncs.com/api/v1"
    )
    assert REGIONS[Region.BEIJING].base_url() == "https://dashscope.aliyuncs.com/api/v1"
    assert Region.FRANKFURT not in BASE_URLS and Region.SINGAPORE in BASE_URLS
    assert [r for r in Region if REGIONS[r].temporary_storage] == [Region.BEIJING]
    assert CURRENCY[Region.SINGAPORE] == "USD" and CURRENCY[Region.FRANKFURT] == "CNY"
    with pytest.raises(ValueError, match="workspace id"):
        REGIONS[Region.TOKYO].workspace_url("evil.example.com/x")


def test_singapore_drops_the_x() -> None:
    assert find_model("wan2.1-i2v-plus") is MODELS["wanx2.1-i2v-plus"]
    assert find_model("wan2.1-kf2v-plus") is MODELS["wanx2.1-kf2v-plus"]
    assert MODELS["wanx2.1-i2v-turbo"].wire_id(Region.SINGAPORE) == "wan2.1-i2v-turbo"
    assert MODELS["wanx2.1-i2v-turbo"].wire_id(Region.BEIJING) == "wanx2.1-i2v-turbo"
    assert not MODELS["wan2.2-kf2v-flash"].available_in(Region.SINGAPORE)
    assert find_model("nope") is None


def test_effects_per_model() -> None:
    assert len(EFFECTS) == 26 + 5  # the reference's first-frame and kf2v tables (§13)
    assert {m.id for m in models_for_effect("flying")} == {"wanx2.1-i2v-plus", "wanx2.1-i2v-turbo"}
    assert {m.id for m in models_for_effect("dance1")} == {"wanx2.1-i2v-plus"}
    assert {m.id for m in models_for_effect("hanfu-1")} == {"wanx2.1-kf2v-plus"}
    assert EFFECTS["flying"].zh == "魔法悬浮" and EFFECTS["mech2"].zh == "赛博登场"


def test_an_effect_picks_its_model_in_the_region() -> None:
    assert effect_model("flying", Region.BEIJING) is MODELS["wanx2.1-i2v-plus"]
    assert effect_model("solaron", Region.SINGAPORE) is MODELS["wanx2.1-kf2v-plus"]
    assert effect_model("flying", Region.FRANKFURT) is None


def test_which_models_take_an_end_image_a_clip_or_audio_per_region() -> None:
    def ids(media: Media, region: Region) -> set[str]:
        return {m.id for m in models_taking(media, region)}

    assert ids(Media.LAST_FRAME, Region.BEIJING) == {
        "wan2.7-i2v", "wan2.2-kf2v-flash", "wanx2.1-kf2v-plus", "wan3.0-video",
        "wan3.0-video-prime",
    }  # fmt: skip
    assert ids(Media.LAST_FRAME, Region.FRANKFURT) == {"wan3.0-video", "wan3.0-video-prime"}
    assert ids(Media.CLIP, Region.BEIJING) == {"wan2.7-i2v"}
    # a clip travels only through the temporary storage, which is Beijing's alone (§11)
    assert ids(Media.CLIP, Region.SINGAPORE) == set()
    assert ids(Media.AUDIO, Region.SINGAPORE) == set()
    assert "wan2.7-i2v" in ids(Media.AUDIO, Region.BEIJING)


def test_prices_limits_and_families() -> None:
    flash = MODELS["wan2.6-i2v-flash"]
    assert flash.unit_price(Region.BEIJING, "720P") == 0.30
    assert flash.unit_price(Region.BEIJING, "720P", sound=False) == 0.15
    # a model whose sound cannot be switched off has one price
    assert MODELS["wan2.6-i2v"].unit_price(Region.BEIJING, "720P", sound=False) == 0.6
    assert MODELS["wan2.2-i2v-flash"].unit_price(Region.SINGAPORE, "1080P") is None
    assert MODELS["wan3.0-video"].unit_price(Region.BEIJING, "720P") is None
    assert MODELS["wanx2.1-kf2v-plus"].unit_price(Region.SINGAPORE, "720P") is None
    assert MODELS["wan2.2-kf2v-flash"].unit_price(Region.BEIJING, "1080P") == 0.48
    assert MODELS["wan2.7-i2v"].family is Family.WAN27
    assert MODELS["wan2.7-i2v"].prompt_max == 5000  # §5.3
    assert MODELS["wan2.7-i2v"].audio_limits.min_seconds == 2.0
    assert MODELS["wan3.0-video"].ratios[0] == "adaptive"
    assert MODELS["wan3.0-video"].durations == tuple(range(2, 31))
    assert MODELS["wan2.2-i2v-plus"].prompt_max == 800
    assert MODELS["wan2.6-i2v"].image.max_bytes == 20 * 1024 * 1024
    assert MODELS["wan2.2-kf2v-flash"].image.min_side == 360
    assert MODELS["wanx2.1-i2v-turbo"].durations == (3, 4, 5)
    assert all(m.available_in(Region.SINGAPORE) for m in models_in(Region.SINGAPORE))


def test_output_size_matches_the_documented_example() -> None:
    assert output_size(750, 1000, "720P") == (816, 1104)
    w, h = output_size(1920, 1080, "1080P")
    assert (w % 16, h % 16) == (0, 0)
    assert abs(w * h - 1920 * 1080) / (1920 * 1080) < 0.02


def test_first_frame_models_leave_out_the_ones_that_need_an_end_image() -> None:
    from core.domain.catalog import first_frame_models

    ids = {m.id for m in first_frame_models(Region.BEIJING)}
    assert "wan2.6-i2v-flash" in ids and "wan2.7-i2v" in ids and "wan3.0-video" in ids
    assert not ids & {"wan2.2-kf2v-flash", "wanx2.1-kf2v-plus"}


def test_an_end_image_goes_to_the_kf2v_counterpart_where_the_region_has_one() -> None:
    def used(model: str, region: Region) -> str:
        return end_frame_model(MODELS[model], region).id

    assert used("wan2.2-i2v-flash", Region.BEIJING) == "wan2.2-kf2v-flash"
    assert used("wanx2.1-i2v-plus", Region.BEIJING) == "wanx2.1-kf2v-plus"
    assert used("wanx2.1-i2v-plus", Region.SINGAPORE) == "wanx2.1-kf2v-plus"
    # Singapore has no wan2.2-kf2v-flash: the model is kept and the validation refuses it
    assert used("wan2.2-i2v-flash", Region.SINGAPORE) == "wan2.2-i2v-flash"
    for keeps in ("wan2.7-i2v", "wan3.0-video", "wan2.2-kf2v-flash", "wan2.6-i2v-flash"):
        assert used(keeps, Region.BEIJING) == keeps
    for chosen, variant in END_FRAME_VARIANTS.items():  # same generation, takes an end image
        assert MODELS[chosen].label.split(" (")[0] == MODELS[variant].label.split(" (")[0]
        assert MODELS[variant].takes(Media.LAST_FRAME)
