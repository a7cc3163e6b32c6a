"""The one validation of a request (``core.domain.validation``), directly: every refusal is one
clear line, and a valid spec comes back with the catalog id and defaults filled in."""

from __future__ import annotations

import dataclasses

import pytest

from core.domain.catalog import AUDIO_LIMITS, Region, find_model
from core.domain.errors import Input, ValidationError
from core.domain.jobs import JobSpec
from core.domain.tasks import MediaFile
from core.domain.validation import check_media, resolve_model, validate_spec

SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="a cat turns its head", resolution="", duration=0)


def spec(model: str, **kw: object) -> JobSpec:
    return dataclasses.replace(SPEC, model=model, **kw)  # type: ignore[arg-type]  # JobSpec fields


# moved from the DashScope client's tests: the client no longer validates, the facade does
# (once, before any row or request), so these refusals are now proven here
@pytest.mark.parametrize(
    ("model", "kw", "audio", "words"),
    [
        ("wan9-i2v", {}, False, "Unknown model 'wan9-i2v'"),
        ("wan2.6-i2v-flash", {"duration": 20}, False, "2 to 15 s, not 20 s"),
        ("wan2.5-i2v-preview", {"duration": 7}, False, "5 or 10 s, not 7 s"),
        ("wan2.2-i2v-plus", {"resolution": "720P"}, False, "480P, 1080P videos, not 720P"),
        ("wan2.2-i2v-flash", {}, True, "cannot use an audio file"),
        ("wan2.5-i2v-preview", {"sound": False}, False, "always makes videos with sound"),
        ("wan2.6-i2v-flash", {"template": "flying"}, False, "does not offer the effect"),
        ("wanx2.1-i2v-turbo", {"template": "melt"}, False, "does not offer the effect 'melt'"),
        ("wanx2.1-i2v-plus", {"template": "nope"}, False, "Unknown effect"),
        ("wan2.6-i2v-flash", {"seed": 2_147_483_648}, False, "0 to 2147483647"),
        ("wan2.6-i2v-flash", {"seed": -1}, False, "0 to 2147483647"),
        ("wan2.2-i2v-flash", {"prompt": "x" * 801}, False, "801 characters"),
        ("wan2.6-i2v-flash", {"negative_prompt": "n" * 501}, False, "negative prompt is 501"),
        ("wan9-i2v", {}, False, "Unknown model"),
        ("wan2.6-i2v-us", {}, False, "only in us-east-1"),
        ("wan2.6-i2v-flash", {"aspect": "2:1"}, False, "Unknown aspect '2:1'"),
        ("wan2.6-i2v-flash", {"fill": "smear"}, False, "Unknown fill 'smear'"),
        ("wan2.6-i2v-flash", {"sound": False}, True, "silent video cannot use an audio file"),
    ],
)
def test_invalid_specs_are_refused_with_one_line(
    model: str, kw: dict[str, object], audio: bool, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_spec(spec(model, **kw), Region.BEIJING, audio=audio)
    assert words in caught.value.message
    assert "\n" not in caught.value.message
    # a stable key and the values the message names, for a front-end to translate it
    assert "." in caught.value.key


def test_a_valid_spec_gets_the_catalog_id_and_the_defaults() -> None:
    model = resolve_model("wan2.6-i2v-flash", Region.BEIJING)
    checked = validate_spec(SPEC, Region.BEIJING)
    assert (checked.model, checked.resolution, checked.duration) == (
        model.id,
        model.default_resolution,
        model.default_duration,
    )
    lower = validate_spec(dataclasses.replace(SPEC, resolution="720p"), Region.BEIJING)
    assert lower.resolution == "720P"


def test_a_regional_id_resolves_to_the_catalog_id() -> None:
    turbo = find_model("wanx2.1-i2v-turbo")
    assert turbo is not None
    regional = turbo.wire_id(Region.SINGAPORE)
    checked = validate_spec(spec(regional, prompt=None), Region.SINGAPORE)
    assert checked.model == turbo.id


def test_own_audio_outside_beijing_is_refused_and_names_the_region() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_spec(SPEC, Region.SINGAPORE, audio=True)
    assert caught.value.subject is Input.AUDIO
    assert caught.value.key == "audio.region"
    assert caught.value.params == {"region": "ap-southeast-1"}


def test_a_model_missing_in_the_region_is_refused() -> None:
    with pytest.raises(ValidationError, match="not available in region us-east-1") as caught:
        resolve_model("wan2.6-i2v-flash", Region.VIRGINIA)
    assert caught.value.params["region"] == "us-east-1"


def test_media_checks_judge_the_normalised_files() -> None:
    model = resolve_model("wan2.6-i2v-flash", Region.BEIJING)
    image = MediaFile(b"\x89PNG", "image/png", "a.png")
    check_media(model, image)  # fits
    with pytest.raises(ValidationError, match="JPEG, PNG, BMP or WEBP") as caught:
        check_media(model, MediaFile(b"x", "image/gif", "a.gif"))
    assert caught.value.key == "image.format"
    with pytest.raises(ValidationError, match="required"):
        check_media(model, MediaFile(b"", "image/png", "a.png"))
    big = MediaFile(b"x" * (model.image.max_bytes + 1), "image/png", "a.png")
    with pytest.raises(ValidationError, match="accepts at most"):
        check_media(model, big)
    with pytest.raises(ValidationError, match="WAV or MP3"):
        check_media(model, image, MediaFile(b"x", "audio/ogg", "a.ogg"))
    loud = MediaFile(b"x" * (AUDIO_LIMITS.max_bytes + 1), "audio/mpeg", "a.mp3")
    with pytest.raises(ValidationError, match="the limit is") as caught:
        check_media(model, image, loud)
    assert caught.value.subject is Input.AUDIO


def test_frankfurt_refuses_what_it_does_not_serve_and_names_what_it_does() -> None:
    """Issue 14: Frankfurt serves wan2.6-i2v at 5/10/15 s and Wan 3.0 only (reference §1.1)."""
    with pytest.raises(ValidationError) as missing:
        validate_spec(spec("wan2.7-i2v"), Region.FRANKFURT)
    assert missing.value.key == "request.model_region_here"
    assert missing.value.params == {
        "model": "wan2.7-i2v",
        "region": "eu-central-1",
        "regions": "cn-beijing, ap-southeast-1",
        "known": "wan2.6-i2v, wan3.0-video, wan3.0-video-prime",  # what Frankfurt can do
    }
    with pytest.raises(ValidationError) as seven:
        validate_spec(spec("wan2.6-i2v", duration=7), Region.FRANKFURT)
    assert seven.value.key == "request.duration_region"
    assert seven.value.message == (
        "In eu-central-1, wan2.6-i2v makes videos of 5, 10 or 15 s, not 7 s."
    )
    # the same request is fine in Beijing, and 10 s is fine in Frankfurt
    assert validate_spec(spec("wan2.6-i2v", duration=7), Region.BEIJING).duration == 7
    assert validate_spec(spec("wan2.6-i2v", duration=10), Region.FRANKFURT).duration == 10
    with pytest.raises(ValidationError) as unknown:
        validate_spec(spec("wan9-i2v"), Region.FRANKFURT)
    assert unknown.value.params["known"] == "wan2.6-i2v, wan3.0-video, wan3.0-video-prime"


def test_wan30_ratio_and_what_it_does_not_take() -> None:
    assert validate_spec(spec("wan3.0-video", ratio="9:16"), Region.TOKYO).ratio == "9:16"
    with pytest.raises(ValidationError) as bad:
        validate_spec(spec("wan3.0-video", ratio="2:1"), Region.BEIJING)
    assert bad.value.key == "request.ratio" and "adaptive, 21:9, 16:9" in bad.value.message
    with pytest.raises(ValidationError) as elsewhere:
        validate_spec(spec("wan2.7-i2v", ratio="16:9"), Region.BEIJING)
    assert elsewhere.value.key == "request.ratio_model"
    with pytest.raises(ValidationError) as negative:
        validate_spec(spec("wan3.0-video", negative_prompt="blur"), Region.BEIJING)
    assert negative.value.key == "request.negative_prompt_model"
    assert validate_spec(spec("wan3.0-video", duration=30), Region.BEIJING).duration == 30
    # sound can be switched off on Wan 3.0 (parameters.audio), not on wan2.7
    assert validate_spec(spec("wan3.0-video", sound=False), Region.BEIJING).sound is False
    with pytest.raises(ValidationError, match="always makes videos with sound"):
        validate_spec(spec("wan2.7-i2v", sound=False), Region.BEIJING)


def test_kf2v_is_five_seconds_and_its_templates_belong_to_it() -> None:
    checked = validate_spec(spec("wan2.2-kf2v-flash"), Region.BEIJING, last_frame=True)
    assert (checked.duration, checked.resolution) == (5, "720P")
    with pytest.raises(ValidationError, match="exactly 5 s, not 6 s"):
        validate_spec(spec("wan2.2-kf2v-flash", duration=6), Region.BEIJING, last_frame=True)
    fx = validate_spec(spec("wan2.1-kf2v-plus", template="solaron"), Region.SINGAPORE)
    assert (fx.model, fx.template) == ("wanx2.1-kf2v-plus", "solaron")
    with pytest.raises(ValidationError, match="does not offer the effect 'solaron'"):
        validate_spec(spec("wanx2.1-i2v-plus", template="solaron"), Region.BEIJING)


def test_media_checks_of_an_end_image_and_a_continuation() -> None:
    wan27 = resolve_model("wan2.7-i2v", Region.BEIJING)
    image = MediaFile(b"\x89PNG", "image/png", "a.png")
    check_media(wan27, image, last_frame=image)
    with pytest.raises(ValidationError) as end:
        check_media(wan27, image, last_frame=MediaFile(b"x", "image/gif", "b.gif"))
    assert end.value.key == "image.format"
    check_media(wan27, None, continuation=(Region.BEIJING, 8, 3.0))
    with pytest.raises(ValidationError) as within:
        check_media(wan27, None, continuation=(Region.BEIJING, 3, 3.0))
    assert within.value.key == "clip.duration_within"
    with pytest.raises(ValidationError, match="image is required"):
        check_media(wan27, None)
    # wan2.7's driving audio starts at 2 s; the legacy audio_url at 3 s (reference §5.3, §6.4)
    assert wan27.audio_limits.min_seconds == 2.0 < AUDIO_LIMITS.min_seconds
