"""The doctor's checks of this machine (``bot.doctor``): the settings parse, the tokens and the
key have the right shape, the region agrees with the base URL and the model defaults, the SQLite
database is writable and migrated, the media directory is writable with room to spare, the HTTP
port is free. Each ``Finding`` names the setting and says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import from_env
from core.domain.catalog import DEFAULT_EFFECT_MODEL, DEFAULT_MODEL, find_model, models_in
from core.domain.errors import ConfigError
from core.domain.regions import REGIONS, Region

#: below this much free space under MEDIA_DIR a few videos fill the disk
MIN_FREE_BYTES = 1 << 30

#: a bot token: base64 user id, timestamp, HMAC (Developer Portal → Bot → Reset Token)
_DISCORD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{17,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
#: a Model Studio API key
_DASHSCOPE_KEY = re.compile(r"^sk-[A-Za-z0-9][A-Za-z0-9_-]{15,}$")
#: the first setting a problem line names
_SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


@dataclass(frozen=True, slots=True)
class Finding:
    setting: str
    problem: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem}"


def settings_findings(env: Mapping[str, str]) -> list[Finding]:
    """Every problem ``animate-bot run`` would refuse to start with."""
    try:
        from_env(env)
    except ConfigError as exc:
        text = exc.message.removeprefix("Configuration problem: ").rstrip(".")
        # the settings join their problems with "; ", which a problem's own advice may use
        # too: a part that names no setting continues the one before it
        parts: list[str] = []
        for part in text.split("; "):
            if parts and not _SETTING.search(part):
                parts[-1] += "; " + part
            else:
                parts.append(part)
        found = []
        for part in parts:
            name = _SETTING.search(part)
            found.append(Finding(name.group(0) if name else "settings", part + "."))
        return found
    return []


def token_findings(env: Mapping[str, str]) -> list[Finding]:
    found: list[Finding] = []
    raw = env.get("DISCORD_TOKEN") or ""
    token = raw.strip()
    if token and not _DISCORD_TOKEN.match(token):
        if token.lower().startswith(("bot ", "bearer ")):
            what = "starts with a prefix; set the token alone, without 'Bot '"
        elif token[:1] in "'\"":
            what = "is quoted; remove the quotes"
        elif token.isdigit():
            what = "is a number (the application id?); use the bot token (Bot → Reset Token)"
        else:
            what = (
                "does not look like a bot token (three dot-separated parts); copy it again "
                "from the Developer Portal, Bot → Reset Token (not the client secret)"
            )
        found.append(Finding("DISCORD_TOKEN", what + "."))
    key = (env.get("DASHSCOPE_API_KEY") or "").strip()
    if key and not _DASHSCOPE_KEY.match(key):
        found.append(
            Finding(
                "DASHSCOPE_API_KEY",
                "does not look like a Model Studio key (sk- followed by letters and digits); "
                "copy it again from the Model Studio console, API Keys, of your region.",
            )
        )
    return found


def _region_of_host(host: str) -> Region | None:
    """The region an official DashScope host belongs to (shared domain or workspace host)."""
    for info in REGIONS.values():
        if info.shared_url is not None and urlsplit(info.shared_url).hostname == host:
            return info.region
        if host.endswith(f".{info.region.value}.maas.aliyuncs.com"):
            return info.region
    return None


def region_findings(env: Mapping[str, str]) -> list[Finding]:
    """The region, the base URL and the model defaults must belong together (a key of one
    region is refused by another's host with 401, and a model id may not exist there)."""
    try:
        region = Region((env.get("DASHSCOPE_REGION") or Region.BEIJING.value).strip())
    except ValueError:
        return []  # the settings check names it
    found: list[Finding] = []
    url = env.get("DASHSCOPE_BASE_URL") or env.get("DASHSCOPE_HTTP_BASE_URL") or ""
    host = urlsplit(url.strip()).hostname or ""
    other = _region_of_host(host) if host else None
    if other is not None and other is not region:
        found.append(
            Finding(
                "DASHSCOPE_REGION",
                f"is {region.value} but DASHSCOPE_BASE_URL is a host of {other.value}; set "
                f"DASHSCOPE_REGION={other.value} (and a key of that region) or unset "
                "DASHSCOPE_BASE_URL.",
            )
        )
    default = find_model(DEFAULT_MODEL)
    if default is None or not default.available_in(region):
        found.append(
            Finding(
                "DASHSCOPE_REGION",
                f"the default model {DEFAULT_MODEL} is not offered in {region.value}: a request "
                "that names no model is refused; each server's admins set a default with "
                "/animate-config model.",
            )
        )
    effects = find_model(DEFAULT_EFFECT_MODEL)
    if effects is None or not effects.available_in(region):
        others = [m.id for m in models_in(region) if m.effects]
        found.append(
            Finding(
                "DASHSCOPE_REGION",
                f"the default effect model {DEFAULT_EFFECT_MODEL} is not offered in "
                f"{region.value}: "
                + (
                    f"/animate-effect needs a model picked ({', '.join(others)})."
                    if others
                    else "no model there has effects, so /animate-effect refuses every request."
                ),
            )
        )
    return found


def sqlite_findings(db: Path) -> list[Finding]:
    from storage.migrate import migrations

    setting = "DATABASE_PATH"
    folder = _existing_parent(db.parent)
    if not os.access(folder, os.W_OK | os.X_OK):
        return [Finding(setting, f"{str(folder)!r} is not writable; fix its owner or mode.")]
    if not db.exists():
        return []  # created with its schema at the first start
    latest = len(migrations())
    try:
        conn = sqlite3.connect(db, timeout=3.0, isolation_level=None)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            # the write lock without writing anything: the file and its journal are writable
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [Finding(setting, f"{str(db)!r} cannot be used ({exc}); restore it or move it.")]
    if version > latest:
        return [
            Finding(
                setting,
                f"{str(db)!r} is at schema version {version}, newer than this release "
                f"({latest}); run the newer release.",
            )
        ]
    if version < latest:
        return [
            Finding(
                setting,
                f"{str(db)!r} is at schema version {version} of {latest}; the next "
                "`animate-bot run` migrates it (back the file up first).",
            )
        ]
    return []


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def media_findings(env: Mapping[str, str]) -> list[Finding]:
    db = Path(env.get("DATABASE_PATH") or "data/animate.db").expanduser()
    media = Path(env.get("MEDIA_DIR") or str(db.parent / "media")).expanduser()
    folder = _existing_parent(media)
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return [Finding("MEDIA_DIR", f"{str(folder)!r} is not writable ({exc.strerror}); fix it.")]
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        return [
            Finding(
                "MEDIA_DIR",
                f"only {free / (1 << 20):.0f} MiB free under {str(folder)!r}; free space or "
                "lower MEDIA_RETENTION_DAYS.",
            )
        ]
    return []


def port_findings(env: Mapping[str, str]) -> list[Finding]:
    raw = (env.get("HTTP_PORT") or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return []  # unset, or the settings check names it
    host = (env.get("HTTP_HOST") or "127.0.0.1").strip()
    try:
        infos = socket.getaddrinfo(host, int(raw), type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.bind(infos[0][4])
    except OSError as exc:
        return [
            Finding(
                "HTTP_PORT",
                f"cannot listen on {host}:{raw} ({exc.strerror or exc}); stop what uses it "
                "(the bot itself?) or pick another HTTP_PORT / HTTP_HOST.",
            )
        ]
    return []
