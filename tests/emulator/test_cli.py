"""``python -m emulator``: --help, flag parsing, and a real process serving requests."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

import aiohttp
import pytest
import requests

from emulator.__main__ import config_from_args
from tests.emulator.helpers import body
from tests.emulator.receiver import Receiver


def test_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0
    for flag in (
        "--time-scale",
        "--api-key",
        "--seed",
        "--concurrency-mode",
        "--fault-create-500",
        "--fault-reset-after-create",
    ):
        assert flag in done.stdout


def test_flags_map_to_config() -> None:
    config, host, port, _ = config_from_args(
        [
            "--host",
            "127.0.0.1",
            "--port",
            "9999",
            "--time-scale",
            "0.01",
            "--api-key",
            "sk-x",
            "--seed",
            "5",
            "--concurrency-mode",
            "reject",
            "--fault-create-503",
            "0.25",
            "--fault-malformed-query",
            "1",
            "--no-rate-limits",
            "--region",
            "ap-southeast-1",
        ]
    )
    assert (host, port) == ("127.0.0.1", 9999)
    assert (config.time_scale, config.api_key, config.seed, config.concurrency_mode) == (
        0.01,
        "sk-x",
        5,
        "reject",
    )
    assert config.faults.create_503 == 0.25 and config.faults.malformed_query == 1.0
    assert not config.enforce_rate_limits and config.region == "ap-southeast-1"


def test_process_serves_and_stops_on_sigterm() -> None:
    env = {**os.environ, "NO_PROXY": "127.0.0.1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--api-key", "sk-cli"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        base_url = None
        for line in proc.stderr:
            if match := re.search(r"base_url=(\S+)", line):
                base_url = match.group(1)
                break
        assert base_url is not None
        bad = requests.get(
            f"{base_url}/tasks/x", headers={"Authorization": "Bearer nope"}, timeout=10
        )
        assert bad.status_code == 401 and bad.json()["code"] == "InvalidApiKey"
        ok = requests.get(
            f"{base_url}/tasks/x", headers={"Authorization": "Bearer sk-cli"}, timeout=10
        )
        assert ok.json()["output"]["task_status"] == "UNKNOWN"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        if proc.stderr is not None:
            rest = proc.stderr.read()
            proc.stderr.close()
            assert "sk-cli" not in rest


def test_catalog_and_push_flags_map_to_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMULATOR_PUSH_TOKEN", "tok-from-env")
    config, _, _, _ = config_from_args(
        [
            "--region", "eu-central-1", "--workspace-id", "ws-1", "--no-region-from-host",
            "--sg-wan22-flash", "no-1080p", "--us-wan27", "--de-wan26-durations", "2-15",
            "--wan27-media-errors", "task", "--wan27-legacy-keys", "reject",
            "--allow-duration-within-clip", "--continuation-usage", "output-only",
            "--kf2v-require-last-frame", "--kf2v-2026-image-limits",
            "--wan30-media-errors", "create", "--wan30-exact-aspect",
            "--model-limit", "wan3.0-video=1:2", "--model-limit", "wan3.0-video-prime=3:4",
            "--push-url", "http://127.0.0.1:9/events", "--push-loss", "0.1",
            "--push-duplicate", "0.2", "--push-replay", "0.3", "--push-replay-delay", "30",
            "--push-retry", "EXPONENTIAL_DECAY_RETRY", "--push-max-retries", "4",
            "--push-timeout", "2.5", "--push-canceled",
        ]
    )  # fmt: skip
    assert (config.region, config.workspace_id, config.region_from_host) == (
        "eu-central-1",
        "ws-1",
        False,
    )
    assert (config.sg_wan22_flash, config.us_wan27, config.de_wan26_durations) == (
        "no-1080p",
        True,
        "2-15",
    )
    assert (config.wan27_media_errors, config.wan27_legacy_keys) == ("task", "reject")
    assert not config.reject_duration_within_clip and config.continuation_usage == "output-only"
    assert config.kf2v_require_last_frame and config.kf2v_2026_image_limits
    assert config.wan30_media_errors == "create" and not config.wan30_adaptive_snaps
    assert config.model_limits == {"wan3.0-video": (1, 2), "wan3.0-video-prime": (3, 4)}
    push = config.push
    assert push is not None
    assert (push.url, push.auth, push.token) == (
        "http://127.0.0.1:9/events",
        "api-key",
        "tok-from-env",
    )
    assert (push.loss, push.duplicate, push.replay, push.replay_delay) == (0.1, 0.2, 0.3, 30.0)
    assert (push.retry_strategy, push.max_retries, push.timeout) == (
        "EXPONENTIAL_DECAY_RETRY",
        4,
        2.5,
    )
    assert push.include_canceled
    basic, _, _, _ = config_from_args(
        [
            "--push-url",
            "http://h/e",
            "--push-auth",
            "basic",
            "--push-token",
            "t",
            "--push-basic-user",
            "u",
        ]
    )
    assert basic.push is not None and (basic.push.auth, basic.push.basic_user) == ("basic", "u")
    monkeypatch.delenv("EMULATOR_PUSH_TOKEN")
    none, _, _, _ = config_from_args(["--push-url", "http://h/e"])
    assert none.push is not None and none.push.auth == "none"
    assert config_from_args([])[0].push is None
    with pytest.raises(SystemExit):
        config_from_args(["--model-limit", "wan3.0-video=fast"])


async def test_process_pushes_events_with_the_env_token() -> None:
    receiver = Receiver()
    await receiver.start()
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "EMULATOR_PUSH_TOKEN": "tok-cli-secret"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--port", "0", "--time-scale", "0.001",
        "--duration-sigma", "0", "--queue-delay", "0", "--push-url", receiver.url,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        base_url = None
        while base_url is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
            assert line, "the emulator exited before it was ready"
            if match := re.search(r"base_url=(\S+)", line):
                base_url = match.group(1)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base_url}/services/aigc/video-generation/video-synthesis",
                json=body(),
                headers={"Authorization": "Bearer k", "X-DashScope-Async": "enable"},
            ) as r,
        ):
            assert r.status == 200
            task_id = (await r.json())["output"]["task_id"]
        await asyncio.wait_for(receiver.arrived.wait(), 30)
        [event] = receiver.received
        assert event.headers["x-api-key"] == "tok-cli-secret"
        assert event.body["data"]["task_id"] == task_id
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert proc.stderr is not None
        rest = (await proc.stderr.read()).decode()
        await receiver.close()
    assert "tok-cli-secret" not in rest
