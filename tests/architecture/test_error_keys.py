"""Every user-facing error is raised with a stable key (and its parameters), not only English.

A job row keeps ``error_key`` / ``error_params`` next to ``error_message`` (migration 0005), so a
front-end can later say it in the user's language; that only works if every raise site in the
core, the provider and the Discord adapter names its key. Helpers that build errors take the
key from their callers and pass it on (``key=key``), which this check sees as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "providers", "cogs")
ERRORS = {"AnimateError", "ValidationError", "ProviderError", "ConfigError", "VideoError"}


def unkeyed(paths: list[Path]) -> list[str]:
    missing = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            # ``**kw`` (arg None) forwards a caller's key
            if name in ERRORS and not any(k.arg in ("key", None) for k in node.keywords):
                missing.append(f"{path.name}:{node.lineno} {name}")
    return missing


def test_every_error_raised_names_its_key() -> None:
    paths = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(paths) > 50
    assert unkeyed(paths) == []


def test_the_check_sees_an_unkeyed_error(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        'raise ValidationError("no key here")\n'
        'raise errors.ProviderError("nor here", kind=k)\n'
        'raise AnimateError("fine", key="a.b")\n',
        encoding="utf-8",
    )
    assert unkeyed([source]) == ["sample.py:1 ValidationError", "sample.py:2 ProviderError"]
