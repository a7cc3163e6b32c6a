"""``python -m bot.docs``: write the generated parts of README.md (the settings table and the
troubleshooting list) between their markers. Run it after changing a setting or an error
message; the tests fail until the README matches."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.errors_doc import troubleshooting
from bot.settings_doc import table

README = Path(__file__).resolve().parents[1] / "README.md"
SECTIONS = {"settings": table, "errors": troubleshooting}


def between(text: str, name: str) -> str:
    """What README ``text`` holds between the ``name`` markers."""
    begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
    return text.split(begin, 1)[1].split(end, 1)[0]


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        old = between(text, name)
        text = text.replace(
            f"<!-- {name}:begin -->\n{old}<!-- {name}:end -->",
            f"<!-- {name}:begin -->\n{make().rstrip()}\n<!-- {name}:end -->",
        )
    return text


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
