"""``python -m bot`` as a real process: env-only configuration, any working directory, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.instance_lock import exclusive
from tests.e2e.harness import API_KEY, World

ROOT = Path(__file__).resolve().parents[2]


def bot_env(world: World, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": world.fake.token,
        "DASHSCOPE_API_KEY": API_KEY,
        "DASHSCOPE_BASE_URL": world.emu.base_url,
        "DATABASE_PATH": str(tmp_path / "state" / "animate.db"),
        # development-only redirection to the local stand-in (documented in bot/runner.py)
        "DISCORD_API_BASE": world.fake.api_base,
        "DISCORD_GATEWAY_URL": str(world.fake.gateway_url),
    }


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_process_connects_and_exits_cleanly_on_sigterm(world: World, tmp_path: Path) -> None:
    env = bot_env(world, tmp_path)
    proc = await start_bot(env, tmp_path)
    try:
        await world.fake.wait_for(lambda: world.fake.gateway.identifies, within=30)
        await asyncio.wait_for(world.fake.gateway.ready.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    log = err.decode()
    assert world.fake.token not in log and API_KEY not in log, "no secret in the log"
    assert "SIGTERM: closing" in log
    assert (tmp_path / "state" / "animate.db").exists()
    assert world.fake.synced["global"], "the first start synced the commands"


async def test_a_second_process_on_the_same_data_exits_2_and_kill_9_frees_it(
    world: World, tmp_path: Path
) -> None:
    # a second process used to "recover" the live one's SUBMITTING jobs into SUBMIT_UNKNOWN
    env = bot_env(world, tmp_path)
    first = await start_bot(env, tmp_path)
    try:
        await world.fake.wait_for(lambda: world.fake.gateway.identifies, within=30)
        second = await start_bot(env, tmp_path)
        _, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 2, err.decode()
        line = err.decode()
        assert line.count("\n") == 1 and "another animate-bot instance" in line
        assert f"pid {first.pid}" in line and "Traceback" not in line
        assert first.returncode is None, "the running bot is untouched"
        assert len(world.fake.gateway.identifies) == 1, "the second one never connected"
    finally:
        if first.returncode is None:
            first.kill()  # SIGKILL: no cleanup code runs in the holder
        await asyncio.wait_for(first.communicate(), 30)
    with exclusive(tmp_path / "state"):  # the kernel released the lock with the process
        pass
