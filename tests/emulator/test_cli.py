"""``python -m emulator``: --help, flag parsing, and a real process serving requests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from emulator.__main__ import config_from_args


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


def test_catalog_flags_map_to_config() -> None:
    config, _, _, _ = config_from_args(
        [
            "--region", "eu-central-1", "--workspace-id", "ws-1", "--no-region-from-host",
            "--sg-wan22-flash", "no-1080p", "--us-wan27", "--de-wan26-durations", "2-15",
            "--wan27-media-errors", "task", "--wan27-legacy-keys", "reject",
            "--allow-duration-within-clip", "--continuation-usage", "output-only",
            "--kf2v-require-last-frame", "--kf2v-2026-image-limits",
            "--wan30-media-errors", "create", "--wan30-exact-aspect",
            "--model-limit", "wan3.0-video=1:2", "--model-limit", "wan3.0-video-prime=3:4",
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
    assert config_from_args([])[0].model_limits is None
    with pytest.raises(SystemExit):
        config_from_args(["--model-limit", "wan3.0-video=fast"])
