"""``python -m bot`` as a real process: env-only configuration, any working directory, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.e2e.harness import API_KEY, World

ROOT = Path(__file__).resolve().parents[2]


async def test_process_connects_and_exits_cleanly_on_sigterm(world: World, tmp_path: Path) -> None:
    env = {
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
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
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
