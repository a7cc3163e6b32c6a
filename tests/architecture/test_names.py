"""No two modules with the same name in different packages unless they are the same concept.

A reader who sees ``delivery`` or ``jobs`` should know which room they are in: the Discord port
is ``cogs/port.py``, not a second ``delivery``. Leading underscores do not make a name
different. A clash must be listed below with the reason it is the same concept (or harmless).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "bot", "cogs", "core", "providers", "storage", "emulator", "playground", "bench", "slackapp",
)  # fmt: skip
ALLOWED = {
    "__init__": "every package has one",
    "__main__": "each runnable package's entry point (python -m bot, python -m emulator)",
    # the emulator is a separate program speaking DashScope's side of the wire; these name
    # the same concepts seen from the other side, never imported across
    "errors": "core/domain/errors.py is the error types; providers/_errors.py maps DashScope's "
    "error bodies to them; emulator/_errors.py writes those bodies",
    "config": "core/engine/config.py is the engine's knobs, emulator/_config.py the emulator's",
    "regions": "core/domain/regions.py is the bot's region data (hosts, currency, storage); "
    "emulator/_regions.py the emulator's own reading of the same reference section",
    "server": "emulator/_server.py and playground/fakediscord/_server.py are each a stand-in's "
    "HTTP server (DashScope's side, Discord's side), never imported across",
}


def basenames() -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            stem = path.stem if path.stem.startswith("__") else path.stem.lstrip("_")
            where[stem].append(str(path.relative_to(ROOT)))
    return where


def test_module_names_are_unique_across_packages_or_explained() -> None:
    clashes = {
        name: paths
        for name, paths in basenames().items()
        if len({p.split("/")[0] for p in paths}) > 1 and name not in ALLOWED
    }
    assert clashes == {}


def test_every_allowed_clash_still_exists() -> None:
    # an allow-list entry outliving its clash would hide the next one under the same name
    names = basenames()
    stale = [n for n in ALLOWED if n not in ("__init__", "__main__") and len(names.get(n, [])) < 2]
    assert stale == []
