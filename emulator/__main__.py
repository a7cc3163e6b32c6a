"""``python -m emulator --host 127.0.0.1 --port 8089 [--time-scale X] [--api-key K] [faults…]``.

The push token may come from ``--push-token`` or, to keep it out of the process list, from the
environment variable ``EMULATOR_PUSH_TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import fields
from typing import get_args
from urllib.parse import urlsplit

from emulator import Emulator, EmulatorConfig, FaultConfig, PushConfig
from emulator._config import FAULT_KINDS, REGIONS, PushAuth, RetryStrategy

log = logging.getLogger(__name__)

PUSH_TOKEN_ENV = "EMULATOR_PUSH_TOKEN"  # noqa: S105  # the variable's name, not a secret


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
    p.add_argument(
        "--model-limit",
        action="append",
        default=[],
        metavar="MODEL=RPS:CONCURRENCY",
        help="override a model's submit RPS and concurrent tasks (repeatable)",
    )
    p.add_argument("--duration-sigma", type=float, default=0.25)
    p.add_argument("--queue-delay", type=float, default=2.0)
    p.add_argument("--unknown-model-404", action="store_true")
    p.add_argument("--strict-2025-images", action="store_true")
    p.add_argument("--pad-video-to-bytes", type=int, default=None)
    p.add_argument("--render-max-side", type=int, default=None)
    p.add_argument("--log-level", default="INFO")
    _catalog_flags(p)
    _push_flags(p)
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
    return p


def _catalog_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("regions and models ([uncertain] points of the reference)")
    g.add_argument("--region", default="any", choices=REGIONS)
    g.add_argument("--workspace-id", default=None, help="bind workspace hosts to this id")
    g.add_argument(
        "--no-region-from-host",
        action="store_true",
        help="ignore the Host header when choosing the region's catalog",
    )
    g.add_argument("--sg-wan22-flash", choices=("yes", "no-1080p", "no"), default="yes")
    g.add_argument("--us-wan27", action="store_true", help="offer wan2.7-i2v in us-east-1")
    g.add_argument("--de-wan26-durations", choices=("5-10-15", "2-15"), default="5-10-15")
    g.add_argument("--wan27-media-errors", choices=("create", "task"), default="create")
    g.add_argument("--wan27-legacy-keys", choices=("ignore", "reject"), default="ignore")
    g.add_argument("--allow-duration-within-clip", action="store_true")
    g.add_argument("--continuation-usage", choices=("split", "output-only"), default="split")
    g.add_argument("--kf2v-require-last-frame", action="store_true")
    g.add_argument("--kf2v-2026-image-limits", action="store_true")
    g.add_argument("--wan30-media-errors", choices=("create", "task"), default="task")
    g.add_argument(
        "--wan30-exact-aspect",
        action="store_true",
        help="'adaptive' keeps the image's aspect instead of the nearest ratio",
    )


def _push_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("EventBridge completion push (§14)")
    g.add_argument("--push-url", default=None, help="POST AsyncTaskFinish events here")
    g.add_argument(
        "--push-auth",
        choices=get_args(PushAuth),
        default=None,
        help="default: api-key when a token is given, else none",
    )
    g.add_argument("--push-token", default=None, help=f"or set {PUSH_TOKEN_ENV}")
    g.add_argument("--push-api-key-header", default="x-api-key")
    g.add_argument("--push-basic-user", default="eventbridge")
    g.add_argument("--push-loss", type=float, default=0.0, metavar="P")
    g.add_argument("--push-duplicate", type=float, default=0.0, metavar="P")
    g.add_argument("--push-replay", type=float, default=0.0, metavar="P")
    g.add_argument("--push-replay-delay", type=float, default=60.0, metavar="SECONDS")
    g.add_argument("--push-retry", choices=get_args(RetryStrategy), default="BACKOFF_RETRY")
    g.add_argument("--push-max-retries", type=int, default=None)
    g.add_argument("--push-timeout", type=float, default=5.0, metavar="SECONDS")
    g.add_argument("--push-canceled", action="store_true", help="also push CANCELED tasks")


def _model_limits(values: list[str]) -> dict[str, tuple[int, int]] | None:
    limits: dict[str, tuple[int, int]] = {}
    for value in values:
        model, _, pair = value.partition("=")
        rps, _, concurrency = pair.partition(":")
        if not (model and rps.isdigit() and concurrency.isdigit()):
            raise SystemExit(f"--model-limit {value!r}: expected MODEL=RPS:CONCURRENCY")
        limits[model] = (int(rps), int(concurrency))
    return limits or None


def _push_config(args: argparse.Namespace) -> PushConfig | None:
    if args.push_url is None:
        return None
    token = args.push_token or os.environ.get(PUSH_TOKEN_ENV) or None
    auth: PushAuth = args.push_auth or ("api-key" if token else "none")
    return PushConfig(
        url=args.push_url,
        auth=auth,
        token=token,
        api_key_header=args.push_api_key_header,
        basic_user=args.push_basic_user,
        loss=args.push_loss,
        duplicate=args.push_duplicate,
        replay=args.push_replay,
        replay_delay=args.push_replay_delay,
        retry_strategy=args.push_retry,
        max_retries=args.push_max_retries,
        timeout=args.push_timeout,
        include_canceled=args.push_canceled,
    )


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
        model_limits=_model_limits(args.model_limit),
        duration_sigma=args.duration_sigma,
        queue_delay=args.queue_delay,
        region=args.region,
        workspace_id=args.workspace_id,
        region_from_host=not args.no_region_from_host,
        sg_wan22_flash=args.sg_wan22_flash,
        us_wan27=args.us_wan27,
        de_wan26_durations=args.de_wan26_durations,
        wan27_media_errors=args.wan27_media_errors,
        wan27_legacy_keys=args.wan27_legacy_keys,
        reject_duration_within_clip=not args.allow_duration_within_clip,
        continuation_usage=args.continuation_usage,
        kf2v_require_last_frame=args.kf2v_require_last_frame,
        kf2v_2026_image_limits=args.kf2v_2026_image_limits,
        wan30_media_errors=args.wan30_media_errors,
        wan30_adaptive_snaps=not args.wan30_exact_aspect,
        unknown_model_404=args.unknown_model_404,
        strict_2025_images=args.strict_2025_images,
        pad_video_to_bytes=args.pad_video_to_bytes,
        render_max_side=args.render_max_side,
        faults=faults,
        push=_push_config(args),
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
    if config.push is not None:
        target = urlsplit(config.push.url)  # the path may hold a secret segment: host only
        log.info("pushing task-finish events to %s://%s (auth: %s)", target.scheme,
                 target.netloc.rpartition("@")[2], config.push.auth)  # fmt: skip
    try:
        await stop.wait()
    finally:
        await emulator.close()


def main(argv: Sequence[str] | None = None) -> None:
    try:
        config, host, port, level = config_from_args(argv)
    except ValueError as exc:  # a bad combination of flags: say so instead of a traceback
        raise SystemExit(f"python -m emulator: {exc}") from exc
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(config, host, port))


if __name__ == "__main__":
    main()
