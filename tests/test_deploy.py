"""docker-compose.yml and the Dockerfile, tested without Docker: the YAML parses, names only
files that exist, says what the README promises (volume, env file, restart, log rotation, a
grace period longer than the bot's, the health check), and every command it runs works here."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text("utf-8")
#: the console script pip installed next to this interpreter (what the image runs)
ANIMATE_BOT = str(Path(sys.executable).with_name("animate-bot"))


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_the_bot_service_keeps_its_data_restarts_rotates_logs_and_checks_health() -> None:
    bot = SERVICES["bot"]
    assert "profiles" not in bot, "`docker compose up` starts it"
    assert "animate-data:/data" in bot["volumes"]
    assert bot["env_file"] == ".env" and (ROOT / ".env.example").is_file()
    assert bot["restart"] == "unless-stopped"
    assert bot["logging"]["driver"] == "json-file" and bot["logging"]["options"]["max-size"]
    grace = Settings.__dataclass_fields__["stop_grace_seconds"].default
    assert isinstance(grace, float)
    assert seconds(bot["stop_grace_period"]) > grace, "Docker waits longer than the bot"
    assert bot["healthcheck"]["test"] == ["CMD", "animate-bot", "health"]


def test_the_profiles() -> None:
    assert SERVICES["emulator"]["profiles"] == ["demo"]
    scaled = {name for name, s in SERVICES.items() if s.get("profiles") == ["scale"]}
    assert scaled == {"postgres", "worker", "shard-0", "shard-1"}
    for name in ("worker", "shard-0", "shard-1"):
        env = SERVICES[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://animate:")
        assert env["DATABASE_URL"].endswith("@postgres:5432/animate")
        assert "animate-media:/media" in SERVICES[name]["volumes"] and env["MEDIA_DIR"] == "/media"
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["worker"]["command"] == ["animate-bot", "worker"]
    shards = [SERVICES[f"shard-{i}"]["environment"] for i in (0, 1)]
    assert [s["DISCORD_SHARD_IDS"] for s in shards] == ["0", "1"]
    assert all(s["ENGINE"] == "off" and s["DISCORD_SHARD_COUNT"] == "2" for s in shards)
    named = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", [])}
    assert named == set(COMPOSE["volumes"]), "every volume is declared, none unused"


def test_it_names_only_files_that_exist() -> None:
    for service in SERVICES.values():
        if "build" in service:
            assert (ROOT / service["build"] / "Dockerfile").is_file()
        if "env_file" in service:
            # .env is the operator's own copy of the template
            assert service["env_file"] == ".env" and (ROOT / ".env.example").is_file()


def commands() -> list[tuple[str, ...]]:
    """Every command a service or a health check runs."""
    found: set[tuple[str, ...]] = set()
    for service in SERVICES.values():
        if "command" in service:
            found.add(tuple(service["command"]))
        test = service.get("healthcheck", {}).get("test")
        if test and test[0] == "CMD":
            found.add(tuple(test[1:]))
    return sorted(c for c in found if c[0] in ("animate-bot", "python"))


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_it_runs_works_here(command: tuple[str, ...]) -> None:
    program = [ANIMATE_BOT] if command[0] == "animate-bot" else [sys.executable]
    args = [*program, *command[1 : 3 if command[0] == "python" else 2], "--help"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)  # noqa: S603 - our own commands
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
    if command[0] == "animate-bot" and command[1] in ("run", "worker"):
        assert f"usage: animate-bot {command[1]}" in done.stdout


def test_the_image_installs_the_lock_runs_unprivileged_from_an_empty_dir() -> None:
    assert "pip install --require-hashes -r requirements.lock" in DOCKERFILE
    assert (ROOT / "requirements.lock").is_file()
    assert 'CMD ["animate-bot", "health"]' in DOCKERFILE
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert re.search(r"^WORKDIR /srv/empty$", DOCKERFILE, re.M)
    copied = re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE, re.M)
    for source in copied:
        assert (ROOT / source).exists(), source
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    allowed = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    for package in packages:
        assert package in copied, f"the image lacks {package}/"
        assert f"!{package}/" in allowed, f".dockerignore keeps {package}/ out of the build"
