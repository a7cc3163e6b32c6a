"""The emulator's own model table and the §6.5 output-size rule."""

from __future__ import annotations

import pytest

from emulator import MODELS, EmulatorConfig, output_size
from emulator._regions import durations_for
from emulator._regions import lookup as regional_lookup
from emulator._rules import ALL_TEMPLATES, PLUS_TEMPLATES, TURBO_TEMPLATES, ModelRule


def lookup(model: str, region: str) -> ModelRule | None:
    return regional_lookup(model, region, EmulatorConfig())


def test_documented_output_size_example() -> None:
    assert output_size(750, 1000, "720P") == (816, 1104)


@pytest.mark.parametrize(
    ("size", "tier", "expected"),
    [
        ((1280, 720), "720P", (1280, 720)),
        ((1920, 1080), "1080P", (1920, 1072)),
        ((832, 480), "480P", (832, 480)),
    ],
)
def test_output_sizes_are_multiples_of_16(
    size: tuple[int, int], tier: str, expected: tuple[int, int]
) -> None:
    got = output_size(*size, tier)
    assert got == expected
    assert got[0] % 16 == 0 and got[1] % 16 == 0


def test_region_specific_ids() -> None:
    assert lookup("wanx2.1-i2v-plus", "cn-beijing") is not None
    assert lookup("wan2.1-i2v-plus", "cn-beijing") is None
    assert lookup("wan2.1-i2v-plus", "ap-southeast-1") is not None
    assert lookup("wanx2.1-i2v-plus", "ap-southeast-1") is None
    assert lookup("wan2.6-i2v-us", "us-east-1") is not None
    assert lookup("wan2.6-i2v-us", "cn-beijing") is None
    for model in ("wanx2.1-i2v-turbo", "wan2.1-i2v-turbo", "wan2.6-i2v-us"):
        assert lookup(model, "any") is not None


def test_limits_and_durations_match_reference() -> None:
    assert (
        MODELS["wan2.6-i2v-flash"].submit_rps == 5 and MODELS["wan2.6-i2v-flash"].concurrency == 5
    )
    assert MODELS["wan2.2-i2v-plus"].submit_rps == 2 and MODELS["wan2.2-i2v-plus"].concurrency == 2
    config = EmulatorConfig()
    assert durations_for(MODELS["wan2.6-i2v"], "us-east-1", config) == frozenset({5, 10, 15})
    assert durations_for(MODELS["wan2.6-i2v"], "cn-beijing", config) == frozenset(range(2, 16))
    assert MODELS["wanx2.1-i2v-turbo"].durations == frozenset({3, 4, 5})
    assert MODELS["wan2.2-i2v-flash"].default_resolution == "720P"
    assert MODELS["wan2.2-i2v-plus"].resolutions == ("480P", "1080P")


def test_template_sets() -> None:
    # §13 lists 26 first-frame templates for wanx2.1-i2v-plus and 13 of them for turbo.
    assert len(PLUS_TEMPLATES) == 26
    assert len(TURBO_TEMPLATES) == 13
    assert TURBO_TEMPLATES < PLUS_TEMPLATES == ALL_TEMPLATES
    assert "melt" not in TURBO_TEMPLATES and "flying" in TURBO_TEMPLATES
    assert not MODELS["wan2.6-i2v"].templates and not MODELS["wan2.7-i2v"].templates
