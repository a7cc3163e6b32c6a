"""``python -m emulator --host 127.0.0.1 --port 8089 [--time-scale X] [--api-key K] [faults…]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import fields

from emulator import Emulator, EmulatorConfig, FaultConfig
from emulator._config import FAULT_KINDS

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local DashScope-compatible Wan image-to-video server.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply every simulated duration (0.01: minutes become seconds)",
    )
    p.add_argument("--api-key", default=None, help="accept only this key (default: any key)")
    p.add_argument("--seed", type=int, default=None, help="RNG seed for timings and faults")
    p.add_argument("--concurrency-mode", choices=("queue", "reject"), default="queue")
    p.add_argument("--no-rate-limits", action="store_true", help="disable submit RPS / query QPS")
    p.add_argument("--duration-sigma", type=float, default=0.25)
    p.add_argument("--queue-delay", type=float, default=2.0)
    p.add_argument(
        "--region",
        default="any",
        choices=("any", "cn-beijing", "ap-southeast-1", "us-east-1", "eu-central-1"),
    )
    p.add_argument("--unknown-model-404", action="store_true")
    p.add_argument("--strict-2025-images", action="store_true")
    p.add_argument("--pad-video-to-bytes", type=int, default=None)
    p.add_argument("--render-max-side", type=int, default=None)
    p.add_argument("--log-level", default="INFO")
    faults = p.add_argument_group("faults (probabilities 0..1)")
    for kind in FAULT_KINDS:
        faults.add_argument(
            f"--fault-{kind.replace('_', '-')}",
            type=float,
            default=0.0,
            dest=f"fault_{kind}",
            metavar="P",
        )
    faults.add_argument("--latency-seconds", type=float, default=0.5)
    faults.add_argument("--task-failure-code", default="InternalError.Algo")
    return p  # fmt: skip


def config_from_args(argv: Sequence[str] | None = None) -> tuple[EmulatorConfig, str, int, str]:
    args = _parser().parse_args(argv)
    known = {f.name for f in fields(FaultConfig)}
    fault_values = {k: getattr(args, f"fault_{k}") for k in FAULT_KINDS if k in known}
    faults = FaultConfig(
        **fault_values,
        latency_seconds=args.latency_seconds,
        task_failure_code=args.task_failure_code,
    )
    config = EmulatorConfig(
        api_key=args.api_key,
        time_scale=args.time_scale,
        seed=args.seed,
        concurrency_mode=args.concurrency_mode,
        enforce_rate_limits=not args.no_rate_limits,
        duration_sigma=args.duration_sigma,
        queue_delay=args.queue_delay,
        region=args.region,
        unknown_model_404=args.unknown_model_404,
        strict_2025_images=args.strict_2025_images,
        pad_video_to_bytes=args.pad_video_to_bytes,
        render_max_side=args.render_max_side,
        faults=faults,
    )
    return config, args.host, args.port, args.log_level


async def _serve(config: EmulatorConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    emulator = Emulator(config)
    await emulator.start(host, port)
    log.info("ready: base_url=%s", emulator.base_url)
    try:
        await stop.wait()
    finally:
        await emulator.close()


def main(argv: Sequence[str] | None = None) -> None:
    config, host, port, level = config_from_args(argv)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(config, host, port))


if __name__ == "__main__":
    main()
