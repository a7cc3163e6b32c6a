"""Quotes: published prices, the operator's overrides, unknown prices, continuation billing."""

from __future__ import annotations

import tomllib

import pytest

from core.domain.catalog import MODELS, Region
from core.domain.jobs import JobSpec
from core.domain.pricing import PriceBook, PriceOverrides, PriceSource
from core.domain.validation import validate_spec

OVERRIDES = """
["wan3.0-video"]
720P = 0.6
1080p = 1.0

["wan2.1-kf2v-plus"]   # a regional id names its catalog model
720P = 0.1
"""


def spec(model: str, region: Region = Region.BEIJING, **kw: object) -> JobSpec:
    fields: dict[str, object] = {"prompt": "p", "resolution": "", "duration": 0, **kw}
    return validate_spec(JobSpec(model=model, **fields), region)  # type: ignore[arg-type]  # test helper


def test_a_published_price_is_quoted_for_the_whole_duration() -> None:
    quote = PriceBook(Region.BEIJING).quote(spec("wan2.6-i2v-flash", resolution="720P"))
    assert (quote.unit_price, quote.seconds, quote.cost) == (0.30, 5, 1.5)
    assert (quote.currency, quote.source, quote.price_known) == ("CNY", PriceSource.CATALOG, True)
    silent = PriceBook(Region.BEIJING).quote(
        spec("wan2.6-i2v-flash", resolution="720P", sound=False)
    )
    assert silent.unit_price == 0.15
    usd = PriceBook(Region.SINGAPORE).quote(spec("wan2.7-i2v", Region.SINGAPORE, duration=10))
    assert (usd.cost, usd.currency) == (1.5, "USD")


def test_an_unpublished_price_is_unknown_not_zero() -> None:
    for model, region in (
        ("wan3.0-video", Region.FRANKFURT),
        ("wan2.1-kf2v-plus", Region.SINGAPORE),
    ):
        checked = validate_spec(
            JobSpec(model=model, prompt="p", resolution="", duration=0), region, last_frame=True
        )
        quote = PriceBook(region).quote(checked)
        assert quote.price_known is False
        assert (quote.unit_price, quote.cost, quote.source) == (None, None, PriceSource.UNKNOWN)


def test_the_operators_price_fills_the_gap_and_wins() -> None:
    overrides = PriceOverrides.parse(tomllib.loads(OVERRIDES))
    assert overrides.table == {
        "wan3.0-video": {"720P": 0.6, "1080P": 1.0},
        "wanx2.1-kf2v-plus": {"720P": 0.1},
    }
    book = PriceBook(Region.BEIJING, overrides)
    wan30 = book.quote(spec("wan3.0-video", resolution="1080P", duration=12))
    assert (wan30.cost, wan30.source) == (12.0, PriceSource.OPERATOR)
    # sound on or off: the same price (reference §5.5), and the override applies to both
    assert book.unit_price(MODELS["wan3.0-video"], "720P", sound=False) == 0.6
    # 480P has no price anywhere
    assert book.price_known(MODELS["wan3.0-video"], "480P") is False
    # an override beats the published Beijing price (it may correct a stale one)
    assert book.unit_price(MODELS["wanx2.1-kf2v-plus"], "720P") == 0.1
    assert book.cost(MODELS["wanx2.1-kf2v-plus"], "720P", 5) == 0.5


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ('["wan9"]\n720P = 1', "unknown model 'wan9'"),
        ('"wan3.0-video" = 1', "must be a table"),
        ('["wan2.2-i2v-plus"]\n720P = 1', "wan2.2-i2v-plus makes 480P, 1080P, not '720P'"),
        ('["wan3.0-video"]\n720P = "cheap"', "the price must be a number"),
        ('["wan3.0-video"]\n720P = true', "the price must be a number"),
        ('["wan3.0-video"]\n720P = -1', "-1 is not a price"),
        ('["wan3.0-video"]\n720P = nan', "nan is not a price"),
    ],
)
def test_a_bad_override_file_is_one_line(document: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        PriceOverrides.parse(tomllib.loads(document))
    assert problem in str(caught.value) and "\n" not in str(caught.value)
