"""The catalogs: both languages have every key with the same placeholders; lookup and fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import i18n

LOCALES_DIR = Path(i18n.__file__).parent / "locales"


def test_both_catalogs_have_the_same_keys() -> None:
    en, zh = i18n.catalog(i18n.ENGLISH), i18n.catalog(i18n.CHINESE)
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh-CN"
    assert sorted(set(zh) - set(en)) == [], "keys missing in en-US"


def test_every_key_has_the_same_placeholders_in_both_languages() -> None:
    en, zh = i18n.catalog(i18n.ENGLISH), i18n.catalog(i18n.CHINESE)
    wrong = {k: (i18n.fields(en[k]), i18n.fields(zh[k])) for k in en if k in zh}
    assert {k: v for k, v in wrong.items() if v[0] != v[1]} == {}


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalog_files_are_sorted_and_non_empty(locale: str) -> None:
    raw = json.loads((LOCALES_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    assert list(raw) == sorted(raw), "keep keys sorted: parallel changes then merge cleanly"
    assert all(v.strip() for v in raw.values())


def test_the_consistency_checks_see_a_broken_pair() -> None:
    assert i18n.fields("{a} and {b}") != i18n.fields("{a}")
    assert i18n.fields("no fields") == frozenset()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("zh-CN", "zh-CN"), ("zh_cn", "zh-CN"), ("ZH-cn", "zh-CN"), ("en-US", "en-US"),
     ("en-GB", "en-US"), ("zh-TW", "en-US"), ("fr", "en-US"), ("", "en-US"), (None, "en-US")],
)  # fmt: skip
def test_locale_of_falls_back_to_english(raw: str | None, expected: str) -> None:
    assert i18n.locale_of(raw) == expected


def test_t_renders_the_language_and_falls_back() -> None:
    assert i18n.t("zh-CN", "common.ok") == "好的"
    assert i18n.t("de", "common.ok") == "OK"
    with pytest.raises(KeyError):
        i18n.t("en-US", "no.such.key")


def test_error_text_keeps_the_stored_english_for_an_unknown_key() -> None:
    assert i18n.error_text("zh-CN", "gone.key", {}, "stored text") == "stored text"
