"""Troubleshooting covers every error the bot can give: each key an error is raised with is of
a kind the list explains, and every message of those kinds is listed."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.errors_doc import KINDS, error_keys, kind_of, troubleshooting
from core.i18n import ENGLISH, catalog

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "providers", "cogs", "slackapp", "bot")
ERRORS = {"AnimateError", "ValidationError", "ProviderError", "ConfigError", "VideoError"}


def raised_keys() -> set[str]:
    """Every key an error is raised with (a literal, or an f-string's constant head)."""
    keys: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in ERRORS:
                    continue
                for kw in node.keywords:
                    if kw.arg != "key":
                        continue
                    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        keys.add(kw.value.value)
                    elif isinstance(kw.value, ast.JoinedStr) and kw.value.values:
                        head = kw.value.values[0]
                        if isinstance(head, ast.Constant) and isinstance(head.value, str):
                            keys.add(head.value.rstrip("."))
    return keys


def test_every_kind_of_error_raised_is_explained() -> None:
    keys = raised_keys()
    assert len(keys) > 50, "the scan finds the errors"
    assert sorted(key for key in keys if kind_of(key) is None) == []


def test_every_message_of_those_kinds_is_listed_with_what_to_do() -> None:
    text = troubleshooting()
    listed = error_keys()
    english = catalog(ENGLISH)
    for kind, messages in listed.items():
        assert messages, f"{kind}: no message in the catalog"
        meaning, action = KINDS[kind]
        assert f"**{kind}** — {meaning}. *What to do:* {action}." in text
        for key, _ in messages:
            assert f"- `{key}`: " in text
    wanted = {k for k in english if kind_of(k) is not None}
    assert {key for messages in listed.values() for key, _ in messages} == wanted
