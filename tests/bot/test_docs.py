"""README.md holds what ``python -m bot.docs`` generates (run it after changing a setting or an
error message)."""

from __future__ import annotations

from bot.docs import README, between, render
from bot.errors_doc import troubleshooting
from bot.settings_doc import table


def test_the_readme_is_up_to_date() -> None:
    text = README.read_text("utf-8")
    assert render(text) == text, "README.md is stale: run `python -m bot.docs`"
    assert between(text, "settings").strip() == table().strip()
    assert between(text, "errors").strip() == troubleshooting().strip()


def test_render_replaces_only_between_the_markers() -> None:
    text = "intro\n<!-- settings:begin -->\nSTALE-TABLE\n<!-- settings:end -->\n" + (
        "mid\n<!-- errors:begin -->\n<!-- errors:end -->\nend\n"
    )
    out = render(text)
    assert out.startswith("intro\n<!-- settings:begin -->\n| setting | default | meaning |")
    assert "STALE-TABLE" not in out and out.endswith("<!-- errors:end -->\nend\n")
    assert render(out) == out
