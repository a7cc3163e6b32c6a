"""Every combination of input media on every model family, as the reference lists them.

The legal sets below are copied from the reference, not from the catalog: §5.3 for wan2.7-i2v
("仅支持以下特定的素材组合，非法组合将报错"), §5.4 for kf2v, §5.5 for Wan 3.0, §4.2 for the legacy
models. Every other subset of {image, end image, clip, audio} must be refused before anything
is spent, with a key and a message that names what the model takes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from core import i18n
from core.domain.catalog import MODELS, Region
from core.domain.combinations import (
    Inputs,
    check_continuation,
    check_inputs,
    continuation_durations,
    continuation_model,
    describe,
    legal_text,
)
from core.domain.errors import Input, ValidationError
from core.domain.jobs import JobSpec
from core.domain.validation import validate_spec

F, L, C, A = "first_frame", "last_frame", "clip", "audio"
ALL = (F, L, C, A)
SUBSETS = [frozenset(s) for n in range(len(ALL) + 1) for s in itertools.combinations(ALL, n)]

#: straight from the reference
LEGAL = {
    "wan2.7-i2v": {
        frozenset({F}), frozenset({F, A}), frozenset({F, L}), frozenset({F, L, A}),
        frozenset({C}), frozenset({C, L}),
    },
    "wan2.2-kf2v-flash": {frozenset({F, L})},
    "wanx2.1-kf2v-plus": {frozenset({F, L})},
    "wan3.0-video": {frozenset({F}), frozenset({F, L})},
    "wan3.0-video-prime": {frozenset({F}), frozenset({F, L})},
    "wan2.6-i2v-flash": {frozenset({F}), frozenset({F, A})},
    "wan2.6-i2v": {frozenset({F}), frozenset({F, A})},
    "wan2.5-i2v-preview": {frozenset({F}), frozenset({F, A})},
    "wan2.2-i2v-flash": {frozenset({F})},
    "wan2.2-i2v-plus": {frozenset({F})},
    "wanx2.1-i2v-plus": {frozenset({F})},
    "wanx2.1-i2v-turbo": {frozenset({F})},
}  # fmt: skip


def inputs(media: frozenset[str]) -> Inputs:
    return Inputs(first_frame=F in media, last_frame=L in media, clip=C in media, audio=A in media)


def spec(model: str, **kw: object) -> JobSpec:
    fields: dict[str, object] = {"prompt": "a wave", "resolution": "", "duration": 0, **kw}
    return JobSpec(model=model, **fields)  # type: ignore[arg-type]  # test helper


def test_the_table_covers_every_beijing_model() -> None:
    assert set(LEGAL) == {m.id for m in MODELS.values() if m.available_in(Region.BEIJING)}


@pytest.mark.parametrize("model_id", sorted(LEGAL))
@pytest.mark.parametrize("media", SUBSETS, ids=lambda s: "+".join(sorted(s)) or "nothing")
def test_every_combination_is_taken_or_refused_exactly_as_documented(
    model_id: str, media: frozenset[str]
) -> None:
    model = MODELS[model_id]
    if media in LEGAL[model_id]:
        check_inputs(model, Region.BEIJING, inputs(media), template=None)
        return
    with pytest.raises(ValidationError) as caught:
        check_inputs(model, Region.BEIJING, inputs(media), template=None)
    error = caught.value
    assert error.key in {
        "image.missing", "audio.model", "media.clip_model", "media.last_frame_model",
        "media.last_frame_required", "media.combination",
    }  # fmt: skip
    assert model_id in error.message or error.key == "image.missing"


def test_refusals_name_what_the_model_and_the_region_can_do() -> None:
    wan27, flash = MODELS["wan2.7-i2v"], MODELS["wan2.6-i2v-flash"]
    with pytest.raises(ValidationError) as no_clip_audio:
        check_inputs(wan27, Region.BEIJING, inputs(frozenset({C, A})), template=None)
    assert no_clip_audio.value.key == "media.combination"
    assert no_clip_audio.value.params["legal"] == (
        "image; image + audio; image + end image; image + end image + audio; clip; clip + end image"
    )
    assert "cannot take clip + audio together" in no_clip_audio.value.message
    with pytest.raises(ValidationError) as no_end:
        check_inputs(flash, Region.BEIJING, inputs(frozenset({F, L})), template=None)
    assert no_end.value.key == "media.last_frame_model"
    assert no_end.value.params["models"] == (
        "wan2.7-i2v, wan2.2-kf2v-flash, wanx2.1-kf2v-plus, wan3.0-video, wan3.0-video-prime"
    )
    with pytest.raises(ValidationError) as no_continue:
        check_inputs(flash, Region.BEIJING, inputs(frozenset({C})), template=None)
    assert (no_continue.value.key, no_continue.value.subject) == ("media.clip_model", Input.CLIP)
    assert no_continue.value.params["models"] == "wan2.7-i2v"
    with pytest.raises(ValidationError) as kf2v_alone:
        check_inputs(MODELS["wan2.2-kf2v-flash"], Region.BEIJING, Inputs(), template=None)
    assert kf2v_alone.value.key == "media.last_frame_required"
    with pytest.raises(ValidationError) as no_audio:
        check_inputs(
            MODELS["wan3.0-video"], Region.BEIJING, inputs(frozenset({F, A})), template=None
        )
    assert no_audio.value.key == "audio.model" and "wan2.7-i2v" in no_audio.value.params["models"]


def test_a_template_takes_the_image_alone() -> None:
    plus = MODELS["wanx2.1-kf2v-plus"]
    check_inputs(plus, Region.BEIJING, Inputs(), template="hanfu-1")
    with pytest.raises(ValidationError) as caught:
        check_inputs(plus, Region.BEIJING, inputs(frozenset({F, L})), template="hanfu-1")
    assert (caught.value.key, caught.value.params) == ("media.template", {"given": "end image"})


def test_clips_and_audio_need_the_temporary_storage_of_beijing() -> None:
    wan27 = MODELS["wan2.7-i2v"]
    for media, key in ((frozenset({C}), "clip.region"), (frozenset({F, A}), "audio.region")):
        with pytest.raises(ValidationError) as caught:
            check_inputs(wan27, Region.SINGAPORE, inputs(media), template=None)
        assert caught.value.key == key and caught.value.params == {"region": "ap-southeast-1"}
    # an end image travels inline: fine in Singapore
    check_inputs(wan27, Region.SINGAPORE, inputs(frozenset({F, L})), template=None)


def test_validate_spec_refuses_before_anything_and_fills_the_defaults() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_spec(spec("wan2.7-i2v"), Region.BEIJING, clip=True, audio=True)
    assert caught.value.key == "media.combination"
    checked = validate_spec(spec("wan3.0-video"), Region.FRANKFURT, last_frame=True)
    assert (checked.ratio, checked.resolution, checked.duration) == ("adaptive", "1080P", 5)
    assert validate_spec(spec("wan2.7-i2v"), Region.BEIJING, clip=True).ratio is None


def test_continuation_totals_include_the_clip() -> None:
    wan27 = MODELS["wan2.7-i2v"]
    assert continuation_durations(wan27, Region.BEIJING, 3.0) == tuple(range(4, 16))
    assert continuation_durations(wan27, Region.BEIJING, 10.0) == tuple(range(11, 16))
    check_continuation(wan27, Region.BEIJING, 8, 3.0)
    with pytest.raises(ValidationError) as caught:
        check_continuation(wan27, Region.BEIJING, 5, 6.2)
    assert caught.value.key == "clip.duration_within"
    assert caught.value.params == {"duration": 5, "clip_seconds": 6.2, "max": 15}
    assert "the clip lasts 6.2 s" in caught.value.message
    with pytest.raises(ValidationError):
        check_continuation(wan27, Region.BEIJING, 3, 3.0)  # nothing new to make


def test_extend_continues_with_the_same_model_where_it_can() -> None:
    wan27 = MODELS["wan2.7-i2v"]
    assert continuation_model(wan27, Region.BEIJING) is wan27
    assert continuation_model(wan27, Region.SINGAPORE) is None  # no temporary storage
    assert continuation_model(MODELS["wan2.6-i2v-flash"], Region.BEIJING) is None


def test_combinations_in_words() -> None:
    assert describe(inputs(frozenset({F, L, A})).media) == "image + end image + audio"
    assert legal_text(MODELS["wan3.0-video"]) == "image; image + end image"


def _refusals() -> list[ValidationError]:
    """One of every new refusal of issue 14, as raised."""
    found: list[ValidationError] = []
    wan27, flash, kf2v = (
        MODELS["wan2.7-i2v"],
        MODELS["wan2.6-i2v-flash"],
        MODELS["wanx2.1-kf2v-plus"],
    )
    calls: list[Callable[[], object]] = [
        lambda: check_inputs(wan27, Region.BEIJING, inputs(frozenset({C, A})), template=None),
        lambda: check_inputs(flash, Region.BEIJING, inputs(frozenset({F, L})), template=None),
        lambda: check_inputs(flash, Region.BEIJING, inputs(frozenset({C})), template=None),
        lambda: check_inputs(MODELS["wan3.0-video"], Region.BEIJING, inputs(frozenset({F, A})),
                             template=None),
        lambda: check_inputs(kf2v, Region.BEIJING, Inputs(), template=None),
        lambda: check_inputs(kf2v, Region.BEIJING, inputs(frozenset({F, L})), template="mech1"),
        lambda: check_inputs(wan27, Region.SINGAPORE, inputs(frozenset({C})), template=None),
        lambda: check_continuation(wan27, Region.BEIJING, 4, 4.04),
        lambda: validate_spec(spec("wan2.6-i2v", duration=3), Region.VIRGINIA),
        lambda: validate_spec(spec("wan3.0-video", ratio="5:4"), Region.BEIJING),
        lambda: validate_spec(spec("wan2.6-i2v", ratio="1:1"), Region.BEIJING),
        lambda: validate_spec(spec("wan3.0-video", negative_prompt="x"), Region.BEIJING),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(ValidationError) as caught:
            call()
        found.append(caught.value)
    return found


@pytest.mark.parametrize("error", _refusals(), ids=lambda e: e.key)
def test_every_new_refusal_reads_the_same_from_the_catalogs(error: ValidationError) -> None:
    """The English catalog entry renders the raised message exactly; the Chinese one exists
    and uses the same values (the catalog test checks the placeholders)."""
    assert i18n.t("en-US", error.key, **error.params) == error.message
    chinese = i18n.t("zh-CN", error.key, **error.params)
    assert chinese != error.message and str(error.params.get("model", "")) in chinese
