"""The settings table, the code and .env.example agree: every setting the bot reads is
documented with its default, and .env.example names every one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.settings import from_env
from bot.settings_doc import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)*")  # ENGINE has no underscore
DOCS = {doc.name: doc for doc in SETTINGS}


def read_by_code() -> dict[str, object]:
    """Every variable ``bot/`` reads from the environment -> its literal default in
    ``bot/settings.py`` (None when the code gives none there)."""
    found: dict[str, object] = {}
    for path in sorted((ROOT / "bot").glob("*.py")):
        in_settings = path.name == "settings.py"
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            name, default = _read(node)
            if name is None:
                continue
            found.setdefault(name, None)
            if in_settings and default is not None:
                found[name] = default
    return found


def _read(node: ast.AST) -> tuple[str | None, object]:
    # number(env, "X", 7.0, …) / whole(env, "X", 3, …)
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("number", "whole"):
        key, default = node.args[1], node.args[2]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            value = default.value if isinstance(default, ast.Constant) else None
            return key.value, value
    # env.get("X") or "default"
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        first, rest = node.values[0], node.values[1:]
        got = _get_name(first)
        if got is not None and rest and isinstance(rest[0], ast.Constant):
            return got, rest[0].value or None
    return _get_name(node), None


def _get_name(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", None) == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and NAME.fullmatch(node.args[0].value)
    ):
        return node.args[0].value
    return None


def test_every_setting_read_is_documented_and_nothing_else() -> None:
    code = read_by_code()
    assert len(code) > 20, "the scan finds the settings"
    assert sorted(code) == sorted(DOCS)


def test_documented_defaults_are_the_code_defaults() -> None:
    for name, default in read_by_code().items():
        if default is None:
            continue
        documented = DOCS[name].default
        if isinstance(default, int | float):
            assert float(documented) == float(default), name
        else:
            assert documented == default, name


def test_defaults_the_source_does_not_spell_out() -> None:
    settings = from_env({"DISCORD_TOKEN": "t", "DASHSCOPE_API_KEY": "sk-x"})
    assert DOCS["DASHSCOPE_REGION"].default == settings.dashscope.region.value
    assert DOCS["HTTP_PORT"].default == "" and settings.http_port is None
    assert DOCS["LOG_FORMAT"].default == settings.log_format


def test_env_example_names_every_setting_with_its_default() -> None:
    lines = (ROOT / ".env.example").read_text("utf-8").splitlines()
    assigned = {}
    for line in lines:
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]+)=(.*)", line.strip())
        if match:
            assigned[match.group(2)] = (match.group(1) is not None, match.group(3))
    assert sorted(assigned) == sorted(DOCS)
    for name, (commented, value) in assigned.items():
        default = DOCS[name].default
        if not value or not default:
            continue
        if not commented:
            assert value == default, f"{name}={value} in .env.example; the default is {default}"
        elif re.fullmatch(r"\d+(\.\d+)?", value):
            assert float(value) == float(default), name
