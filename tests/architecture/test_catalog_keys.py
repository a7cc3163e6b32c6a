"""Every key the code can use is in both catalogs, with no placeholder its use sites do not fill.

The keys come from reading the source (``catalog_keys``): error raise sites, helpers that build
keys, ``t``/``say`` lookups and ``ls``/``N_`` declarations. A missing key would show a user the
stored English (errors) or raise (everything else); a placeholder no site fills would show
``{name}`` to a user.
"""

from __future__ import annotations

from pathlib import Path

from core import i18n
from core.domain.errors import Kind
from tests.architecture.catalog_keys import Found, Use, collect

FOUND = collect()


def test_every_key_name_is_resolved() -> None:
    assert FOUND.unresolved == []
    assert len(FOUND.uses) > 300


def test_every_key_used_in_code_is_in_both_catalogs() -> None:
    for locale in i18n.LOCALES:
        missing = sorted(k for k in FOUND.uses if k not in i18n.catalog(locale))
        assert missing == [], f"missing in {locale}"


def test_every_error_kind_has_a_fallback_message() -> None:
    # an error that names no key of its own is keyed by its kind
    assert sorted(k.value for k in Kind if not i18n.has(k.value)) == []


def unfilled(found: Found) -> dict[str, list[str]]:
    """Placeholders of each key's English template that some use site does not pass."""
    out: dict[str, list[str]] = {}
    english = i18n.catalog(i18n.ENGLISH)
    for key, uses in found.uses.items():
        if key not in english:
            continue
        needed = i18n.fields(english[key])
        for use in uses:
            if use.params is not None and not needed <= use.params:
                out.setdefault(key, []).append(f"{use.where} lacks {sorted(needed - use.params)}")
    return out


def test_every_placeholder_is_filled_by_every_use_site() -> None:
    assert unfilled(FOUND) == {}


def test_the_checks_see_a_missing_key_and_an_unfilled_placeholder(tmp_path: Path) -> None:
    found = Found()
    found.add("no.such.key", "x.py:1", frozenset())
    found.add("job.not_found", "x.py:2", frozenset())  # "There is no job #{job}."
    assert "no.such.key" not in i18n.catalog(i18n.ENGLISH)
    assert unfilled(found) == {"job.not_found": ["x.py:2 lacks ['job']"]}
    assert Use("x.py:3", None).params is None  # an unknown set of parameters is not judged
